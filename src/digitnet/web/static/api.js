// The server's JSON API (see /openapi.json). Every failure becomes an ApiError with the server's one-line message.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function call(path, { method = "GET", body } = {}) {
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

export const api = {
  model: () => call("/api/model"),
  selectModel: (name) => call("/api/model/select", { method: "POST", body: { name } }),
  /** {image: dataURL} or {pixels: [784 numbers in 0..1]} -> {input, weighted_sums, activations, digit, probabilities} */
  predict: (input) => call("/api/predict", { method: "POST", body: input }),
  neuron: (layer, index) => call(`/api/neuron/${layer}/${index}`),
  layer: (layer) => call(`/api/layer/${layer}`),
  examples: (count, start = 0) => call(`/api/examples?count=${count}&start=${start}`),
};
