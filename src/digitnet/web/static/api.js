// The server's JSON API (see /openapi.json). Every failure becomes an ApiError with the server's one-line message.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function call(path, { method = "GET", body } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, "cannot reach the digitnet server; is `digitnet serve` still running?");
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    // not JSON: keep the status line below
  }
  if (!response.ok) {
    const detail = typeof data?.detail === "string" ? data.detail : `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, detail);
  }
  return data;
}

/**
 * The API as one page uses it. The page names the model it shows on every call (`?model=`), so another
 * page switching models never changes what this one is told; `useModel(null)` means the model the
 * server started with.
 */
export function createApi() {
  let modelName = null;
  const named = (path) =>
    modelName === null ? path : `${path}${path.includes("?") ? "&" : "?"}model=${encodeURIComponent(modelName)}`;
  return {
    get modelName() {
      return modelName;
    },
    useModel(name) {
      modelName = name;
    },
    model: () => call(named("/api/model")),
    startupModel: () => call("/api/model"),
    /** loads a file of the models folder and describes it; then useModel(name) to show it */
    selectModel: (name) => call("/api/model/select", { method: "POST", body: { name } }),
    /** {image: dataURL} or {pixels: [784 numbers in 0..1]} -> {input, weighted_sums, activations, digit, probabilities} */
    predict: (input) => call(named("/api/predict"), { method: "POST", body: input }),
    neuron: (layer, index) => call(named(`/api/neuron/${layer}/${index}`)),
    layer: (layer) => call(named(`/api/layer/${layer}`)),
    examples: (count, start = 0) => call(named(`/api/examples?count=${count}&start=${start}`)),
    // The neuron lab (docs/neuron-lab-api.md): the page's own edits travel with every call, the server keeps none.
    /** {image} or {pixels}, plus edits -> the prediction of the edited network, with original_digit */
    labPredict: (input, edits) => call(named("/api/lab/predict"), { method: "POST", body: { ...input, edits } }),
    /** edits -> {accuracy, original_accuracy, per_digit, changed_count, changed, ...} on the 10,000 test images */
    evaluate: (edits) => call(named("/api/lab/evaluate"), { method: "POST", body: { edits } }),
    testImages: (indices) => call(named(`/api/lab/test-images?indices=${indices.join(",")}`)),
    save: (name, edits) => call(named("/api/lab/save"), { method: "POST", body: { name, edits } }),
    probe: (layer, neuron, edits, count = 9) =>
      call(named("/api/lab/probe"), { method: "POST", body: { layer, neuron, count, average_of: 100, edits } }),
    dream: (digit, edits) => call(named("/api/lab/dream"), { method: "POST", body: { digit, edits } }),
    explain: (input, edits) => call(named("/api/lab/explain"), { method: "POST", body: { ...input, edits } }),
  };
}
