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
  const { figure, clicks, failed } = payloadOf(data);
  if (!figure) {
    // No figure: load plotly.js once the page is idle, for the charts of the next page.
    const idle = window.requestIdleCallback || ((run) => setTimeout(run, 500));
    idle(() => loadPlotly().catch(() => {}));
    return undefined;
  }
  const layout = figure.layout || {};
  boldTitle(layout);
  const div = chartDiv(parentElement, layout.height || 450);
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
