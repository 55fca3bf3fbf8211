// The lab's side of the server's API (docs/lab-api.md): start, watch, pause, resume, stop and compare
// training jobs. Errors are api.js's ApiError with the server's one-line message.

import { call } from "./api.js";

const job = (id) => `/api/jobs/${encodeURIComponent(id)}`;

export const labApi = {
  /** {enabled, models_dir, max_jobs, running_jobs, limits, defaults, presets, choices, suggested_name} */
  lab: () => call("/api/lab"),
  /** {jobs: [Job, ...]} newest first, without their weights */
  jobs: () => call("/api/jobs"),
  job: (id) => call(job(id)),
  /** body: a JobRequest (structure, settings, name, neurons, started_from) -> the new Job */
  start: (body) => call("/api/jobs", { method: "POST", body }),
  pause: (id) => call(`${job(id)}/pause`, { method: "POST" }),
  resume: (id) => call(`${job(id)}/resume`, { method: "POST" }),
  stop: (id) => call(`${job(id)}/stop`, { method: "POST" }),
  /** {new: Score, old: Score}: accuracy and per-digit accuracy on the 10,000 test images */
  compare: (id) => call(`${job(id)}/compare`),
  /** A layer's W and b of any model (`model` as ?model=, null: the startup model) */
  layer: (model, layer) => call(`/api/layer/${layer}${model === null ? "" : `?model=${encodeURIComponent(model)}`}`),
  /** The live stream: `job`, `progress`, `weights` and `epoch` messages (Server-Sent Events). */
  events: (id) => new EventSource(`${job(id)}/events`),
};

export const TERMINAL_STATES = new Set(["finished", "stopped", "failed"]);

/**
 * A Snapshot (8-bit weights, base64) -> Map(neuron index -> Float32Array of its `inputs` weights).
 * Byte q stands for (q - 128) * scales[i] (docs/lab-api.md).
 */
export function decodeSnapshot(snapshot) {
  const text = atob(snapshot.data);
  const rows = new Map();
  snapshot.neurons.forEach((neuron, i) => {
    const row = new Float32Array(snapshot.inputs);
    const scale = snapshot.scales[i];
    for (let j = 0; j < snapshot.inputs; j++) row[j] = (text.charCodeAt(i * snapshot.inputs + j) - 128) * scale;
    rows.set(neuron, row);
  });
  return rows;
}
