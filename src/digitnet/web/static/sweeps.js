// The sweeps panel: open a sweep's results database (GET /api/sweeps), see its points best first with
// the mean ± spread over seeds, the report's three pictures, and open any saved model of it.
// Usage: mountSweeps(sectionElement) once; everything inside the section is built here.

const PICTURE_TITLES = {
  accuracy_vs_size: "Test accuracy against the number of weights and biases, with the Pareto front",
  accuracy_vs_setting: "Test accuracy against each swept setting",
  best_curves: "Validation accuracy while learning, the best points",
};

async function getJson(path) {
  let response;
  try {
    response = await fetch(path);
  } catch {
    throw new Error("cannot reach the digitnet server; is `digitnet serve` still running?");
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new Error(typeof data?.detail === "string" ? data.detail : `${response.status} ${response.statusText}`);
  return data;
}

function element(tag, { text, className, attributes = {} } = {}, children = []) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

const percent = (x) => `${(100 * x).toFixed(2)}%`;

/** Build the panel in `section`; returns {refresh()} to list the databases again. */
export function mountSweeps(section) {
  const title = element("h2", { text: "Sweeps: which structure is best?", attributes: { id: "sweeps-title" } });
  const chooser = element("select", { attributes: { id: "sweep-choice", "aria-label": "sweep database" } });
  const message = element("p", { className: "message", attributes: { role: "status", "aria-live": "polite" } });
  const table = element("table", { className: "sweep-table" });
  const pictures = element("div", { className: "sweep-pictures" });
  section.setAttribute("aria-labelledby", "sweeps-title");
  section.replaceChildren(title, element("label", { text: "Sweep database " }, [chooser]), message, table, pictures);

  async function show(name) {
    message.textContent = `reading ${name}…`;
    table.replaceChildren();
    pictures.replaceChildren();
    let sweep;
    try {
      sweep = await getJson(`/api/sweeps/${encodeURIComponent(name)}`);
    } catch (error) {
      message.textContent = error.message;
      return;
    }
    message.textContent = `${sweep.runs} runs, ${sweep.points.length} points; ± is the spread over seeds; ` +
      "P marks the Pareto front (the best accuracy for its size)";
    const head = element("tr", {}, ["", "point", "weights & biases", "seeds", "test accuracy", "validation", "models"]
      .map((text) => element("th", { text, attributes: { scope: "col" } })));
    const rows = sweep.points.map((point) => {
      const models = element("td");
      for (const run of point.runs) {
        if (!run.model) continue;
        const href = run.model.open_url || run.model.download_url;
        const link = element("a", { text: `seed ${run.seed}`, attributes: { href,
          title: run.model.open_url ? `show ${run.model.file} in the explorer` : `download ${run.model.file}` } });
        models.append(link, " ");
      }
      if (!models.childNodes.length) models.textContent = "not saved";
      return element("tr", { className: point.video_network ? "video-network" : "" }, [
        element("td", { text: point.pareto ? "P" : "" }),
        element("th", { text: point.label + (point.video_network ? " (the video's)" : ""), attributes: { scope: "row" } }),
        element("td", { text: point.parameter_count.toLocaleString("en-US") }),
        element("td", { text: String(point.seeds) }),
        element("td", { text: `${percent(point.test_mean)} ± ${percent(point.test_spread)}` }),
        element("td", { text: `${percent(point.validation_mean)} ± ${percent(point.validation_spread)}` }),
        models,
      ]);
    });
    table.replaceChildren(element("thead", {}, [head]), element("tbody", {}, rows));
    pictures.replaceChildren(...sweep.pictures.map((url) => {
      const kind = url.split("/").pop().replace(".png", "");
      const image = element("img", { attributes: { src: url, alt: PICTURE_TITLES[kind] || kind } });
      image.style.maxWidth = "100%"; // through the CSSOM: the page's CSP refuses style attributes
      return element("figure", {}, [image, element("figcaption", { text: PICTURE_TITLES[kind] || kind })]);
    }));
  }

  async function refresh() {
    let sweeps;
    try {
      sweeps = await getJson("/api/sweeps");
    } catch (error) {
      message.textContent = error.message;
      return;
    }
    chooser.replaceChildren(...sweeps.map((s) => element("option", {
      text: s.error ? `${s.name} (cannot open)` : `${s.name}: ${s.runs} runs`, attributes: { value: s.name } })));
    const usable = sweeps.find((s) => !s.error);
    if (!sweeps.length) message.textContent = "no sweep databases: start the explorer with one (see the README)";
    else if (usable) {
      chooser.value = usable.name;
      await show(usable.name);
    } else message.textContent = sweeps[0].error;
  }

  chooser.addEventListener("change", () => show(chooser.value));
  refresh();
  return { refresh };
}
