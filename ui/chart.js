// One Plotly figure, drawn with the cartesian build of plotly.js (ui/chart.py says why).
// Every chart on a page shares one copy of plotly.js, loaded on the first chart's first draw.

const BUNDLE = "app/static/plotly-cartesian.min.js";

function loadPlotly() {
  if (!window.__explorerPlotly) {
    window.__explorerPlotly = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = new URL(BUNDLE, document.baseURI).href;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => {
        window.__explorerPlotly = null; // let the next chart try again
        reject(new Error("plotly.js did not load"));
      };
      document.head.appendChild(script);
    });
  }
  return window.__explorerPlotly;
}

function payloadOf(data) {
  if (typeof data === "string") return JSON.parse(data);
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
    return JSON.parse(new TextDecoder().decode(data));
  }
  return data;
}

function plain(value) {
  // A typed array (a row of customdata) becomes a list, as Python expects.
  return ArrayBuffer.isView(value) ? Array.from(value) : value;
}

function pointOf(p) {
  const point = { curve_number: p.curveNumber, x: plain(p.x), y: plain(p.y) };
  point.point_index = plain(p.pointIndex ?? p.pointNumber);
  if (p.z !== undefined) point.z = p.z;
  if (p.customdata !== undefined) point.customdata = plain(p.customdata);
  return point;
}

function boldTitle(layout) {
  // Streamlit's chart element writes figure titles in bold; ours look the same.
  const title = layout.title;
  if (title && typeof title.text === "string" && title.text && !title.text.startsWith("<b>")) {
    layout.title = { ...title, text: `<b>${title.text}</b>` };
  }
}

// Margins (ui/margins.py says why): each pusher needs `size` pixels beyond the point `val` of the
// plot on its side. Solved as plotly.js solves them, for this chart's width and height, so
// plotly.js finds the margins big enough and draws the figure once.
const SLACK = 3; // plotly.js rounds a little past its own estimate on a redraw
const PUSH_PAD = 12; // plotly.js adds this (or the side's own margin, if less) to every push

let measureContext = null;
function textWidth(text, size) {
  if (!measureContext) measureContext = document.createElement("canvas").getContext("2d");
  measureContext.font = `${size}px "Source Sans", sans-serif`;
  const lines = String(text).split(/<br\s*\/?>|\n/i);
  const plain = lines.map((line) => line.replace(/<[^>]*>/g, "")); // <sup>, <b>: their text
  return Math.max(...plain.map((line) => measureContext.measureText(line).width));
}

function widest(texts, font) {
  return Math.max(0, ...(texts || []).map((t) => textWidth(t, font)));
}

function legendRows(p, width) {
  // A horizontal legend wraps its entries onto as many rows as the plot's width needs; an
  // entry that does not fit on a row starts the next.
  let rows = 1;
  let used = 0;
  for (const name of p.entries) {
    const entry = p.entry + textWidth(name, p.font);
    if (used > 0 && used + entry > width) {
      rows += 1;
      used = 0;
    }
    used += entry;
  }
  return rows;
}

function besideSquare(p, size, chart) {
  // A plot that keeps its aspect (a heatmap's square cells) and is wider than that is centred,
  // leaving room on both sides where its y axis's labels fit. The left margin m it needs solves
  // m + (across * (w - m - r) - wide) / 2 >= size; no less than nothing, no more than size.
  // Narrower than that, plotly.js widens the y range instead, and its labels may grow.
  const along = (chart.h - chart.t - chart.b) * p.along;
  const wide = along * p.aspect;
  if (p.across * (chart.w - size - chart.r) <= wide) {
    if (!p.narrow) return size;
    return Math.max(size, size - widest(p.texts, p.font) + widest(p.narrow, p.font));
  }
  const need = (size - (p.across * (chart.w - chart.r) - wide) / 2) / (1 - p.across / 2);
  return Math.min(size, Math.max(0, need));
}

function pusherSize(p, chart) {
  const rows = p.entries ? (legendRows(p, chart.w - chart.l - chart.r) - 1) * p.line : 0;
  if (p.then !== undefined) {
    // A legend on the figure's edge: plotly.js reserves its height beyond what the axis
    // labels on that side push (padded), and pads it no further.
    return (p.px ? p.px + chart.pad[p.side] : 0) + p.then + rows;
  }
  let text = p.k ? p.k * widest(p.texts, p.font) : 0;
  if (p.inset) text = Math.max(0, text - p.inset * p.span * (chart.w - chart.l - chart.r));
  let size = p.px + text + rows;
  if (p.share !== undefined) size *= p.share; // the part of a legend past val
  size += chart.pad[p.side]; // plotly.js's own pad on every push
  return p.aspect ? besideSquare(p, size, chart) : size;
}

function solveSide(pushers, low, high, base, total) {
  // Every pair of a pusher on the low side and one on the high side; the pair needing the most
  // room sets both margins.
  const lows = [{ val: 0, size: base[low] }, ...pushers.filter((p) => p.side === low)];
  const highs = [{ val: 1, size: base[high] }, ...pushers.filter((p) => p.side === high)];
  let best = [base[low], base[high]];
  for (const a of lows) {
    for (const b of highs) {
      if (a.val >= b.val) continue;
      const span = b.val - a.val;
      const near = (a.size * b.val + (b.size - total) * a.val) / span;
      const far = (b.size * (1 - a.val) + (a.size - total) * (1 - b.val)) / span;
      if (near + far > best[0] + best[1]) best = [near, far];
    }
  }
  return best.map((m) => Math.ceil(m));
}

function baseMargins(layout) {
  const margin = layout.margin || {};
  const template = (layout.template && layout.template.layout) || {};
  const fallback = template.margin || {};
  const side = (name, plotlyDefault) => margin[name] ?? fallback[name] ?? plotlyDefault;
  return { l: side("l", 80), r: side("r", 80), t: side("t", 100), b: side("b", 80) };
}

function solveMargins(pushers, base, chart) {
  const sized = (list) =>
    list.map((p) => ({ side: p.side, val: p.val, size: pusherSize(p, chart) }));
  const grown = (name, value) => (value > base[name] ? value + SLACK : base[name]);
  const across = pushers.filter((p) => p.side === "t" || p.side === "b");
  const [b, t] = solveSide(sized(across), "b", "t", base, chart.h);
  Object.assign(chart, { t: grown("t", t), b: grown("b", b) }); // square plots need the height
  const beside = pushers.filter((p) => !across.includes(p));
  const right = solveSide(sized(beside.filter((p) => !p.aspect)), "l", "r", base, chart.w)[1];
  chart.r = grown("r", right); // a square plot is centred between the margins
  const [l, r] = solveSide(sized(beside), "l", "r", base, chart.w);
  return { l: grown("l", l), r: grown("r", r), t: chart.t, b: chart.b };
}

function presetMargins(layout, pushers, width, div) {
  const base = baseMargins(layout);
  const chart = { w: layout.width || width, h: layout.height || 450, ...base };
  // plotly.js pads each push by PUSH_PAD, or by the side's margin where that is less: a margin
  // that grows gets the bigger pad, so the margins are solved once more with it.
  const pad = (margins) =>
    Object.fromEntries([..."lrtb"].map((s) => [s, Math.min(PUSH_PAD, margins[s])]));
  chart.pad = pad(base);
  chart.pad = pad(solveMargins(pushers, base, { ...chart }));
  const solved = solveMargins(pushers, base, chart);
  // On a rerun the chart keeps margins it already has where they still suffice: a margin that
  // changes makes plotly.js lay the whole figure out again.
  const kept = div && div.__explorerMargins;
  if (kept) for (const s of "lrtb") solved[s] = Math.max(solved[s], kept.preset[s]);
  layout.margin = { ...layout.margin, ...solved };
  return { base, preset: layout.margin }; // kept on the chart for tests/e2e/test_margins.py
}

function chartDiv(parent, height) {
  let div = parent.querySelector(":scope > .explorer-chart");
  if (!div) {
    div = document.createElement("div");
    div.className = "explorer-chart";
    div.style.width = "100%";
    parent.appendChild(div);
  }
  div.style.minHeight = `${height}px`; // hold the space while plotly.js loads
  return div;
}

function watchWidth(div, Plotly) {
  if (div.__explorerObserver) return;
  let width = div.clientWidth;
  div.__explorerObserver = new ResizeObserver(() => {
    if (div.clientWidth !== width && div._fullLayout) {
      width = div.clientWidth;
      Plotly.Plots.resize(div);
    }
  });
  div.__explorerObserver.observe(div);
}

function listenForClicks(div, setTriggerValue) {
  div.removeAllListeners("plotly_click");
  div.on("plotly_click", (event) => {
    if (event && event.points && event.points.length) {
      setTriggerValue("click", pointOf(event.points[0]));
    }
  });
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const { figure, clicks, failed, margins } = payloadOf(data);
  if (!figure) {
    // No figure: load plotly.js once the page is idle, for the charts of the next page.
    const idle = window.requestIdleCallback || ((run) => setTimeout(run, 500));
    idle(() => loadPlotly().catch(() => {}));
    return undefined;
  }
  const layout = figure.layout || {};
  boldTitle(layout);
  const div = chartDiv(parentElement, layout.height || 450);
  try {
    if (margins) div.__explorerMargins = presetMargins(layout, margins, div.clientWidth, div);
  } catch (error) {
    console.warn("explorer chart: margins left to plotly.js", error); // it grows them itself
  }
  const config = { displaylogo: false, responsive: true };
  loadPlotly()
    .then((Plotly) =>
      Plotly.react(div, { data: figure.data || [], layout, frames: figure.frames, config }).then(
        () => {
          watchWidth(div, Plotly);
          if (clicks) listenForClicks(div, setTriggerValue);
        },
      ),
    )
    .catch(() => {
      div.textContent = failed;
    });
  return () => {
    setTimeout(() => {
      if (!div.isConnected && window.Plotly) {
        if (div.__explorerObserver) div.__explorerObserver.disconnect();
        window.Plotly.purge(div);
      }
    }, 0);
  };
}
