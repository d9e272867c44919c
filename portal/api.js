// The portal's only door to the API: bearer token, JSON, Idempotency-Key on charging calls, and every
// failure turned into an ApiError that plainWords() can say to a person.

import config from "./config.js";
import { errorWords, lang, t } from "./i18n.js";

let token = null;
let onUnauthorized = () => {};

export function setToken(value) {
  token = value;
}

export function hasToken() {
  return Boolean(token);
}

export function whenUnauthorized(callback) {
  onUnauthorized = callback;
}

export class ApiError extends Error {
  // kind: "api" (the API's error shape), "http" (a bare gateway answer), "route_missing" (the server
  // has no such route yet), "network" (no answer at all), "bad_response".
  constructor({ kind, status = 0, code = "", message = "", details = {} }) {
    super(message || code || kind);
    this.kind = kind;
    this.status = status;
    this.code = code;
    this.apiMessage = message;
    this.details = details || {};
  }

  // Whether a charge may or may not have happened: then a retry must reuse the Idempotency-Key.
  get outcomeUnknown() {
    return this.kind === "network" || this.status >= 500
      || this.code === "request_in_progress" || this.code === "payment_in_progress";
  }
}

function url(path, query) {
  const base = (config.apiBaseUrl || "").replace(/\/$/, "");
  const search = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v != null && v !== "")) : null;
  const qs = search && search.toString();
  return base + path + (qs ? `?${qs}` : "");
}

export async function request(method, path, { body, query, idempotencyKey, auth = true } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth && token) headers.Authorization = `Bearer ${token}`;
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let response;
  try {
    response = await fetch(url(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch {
    throw new ApiError({ kind: "network" });
  }
  let data = null;
  const text = await response.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      if (response.ok) throw new ApiError({ kind: "bad_response", status: response.status });
    }
  }
  if (response.ok) return data;

  const error = data && typeof data.error === "object" && data.error
    ? new ApiError({ kind: "api", status: response.status, code: data.error.code, message: data.error.message,
      details: data.error.details })
    : new ApiError({
      kind: response.status === 404 && data && data.message === "Not Found" ? "route_missing" : "http",
      status: response.status,
      message: data && typeof data.message === "string" ? data.message : "",
    });
  if (response.status === 401 && auth) onUnauthorized(error);
  throw error;
}

export const api = {
  get: (path, query) => request("GET", path, { query }),
  post: (path, body = {}) => request("POST", path, { body }),
  put: (path, body) => request("PUT", path, { body }),
  del: (path) => request("DELETE", path),
};

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// One attempt to pay for something. A retry of the same attempt (same body, after an answer that
// leaves the outcome unknown: no answer, a 5xx, "in progress") sends the same Idempotency-Key, so the
// API replays the first result instead of charging twice. A changed body (another card, new seats, a
// new price) or a settled answer (paid, declined, refused) starts a new attempt with a new key.
export class ChargeAttempt {
  #key = null;
  #body = null;

  keyFor(body) {
    const shape = JSON.stringify(body);
    if (this.#key === null || this.#body !== shape) {
      this.#key = newKey();
      this.#body = shape;
    }
    return this.#key;
  }

  get key() {
    return this.#key;
  }

  settle() {
    this.#key = null;
    this.#body = null;
  }
}

export async function charge(attempt, path, body) {
  const idempotencyKey = attempt.keyFor(body);
  try {
    const result = await request("POST", path, { body, idempotencyKey });
    attempt.settle();
    return result;
  } catch (error) {
    if (!(error instanceof ApiError) || !error.outcomeUnknown) attempt.settle();
    throw error;
  }
}

const SV_FIELD_MESSAGES = [
  [/^is required$/, "måste fyllas i"],
  [/^must not be empty$/, "får inte vara tomt"],
  [/^is not a valid e-mail address.*$/, "är inte en giltig e-postadress"],
  [/^must be at most (\d+) characters$/, "får vara högst $1 tecken"],
  [/^must match the pattern .*$/, "har fel format"],
  [/^must be at least (\S+)$/, "måste vara minst $1"],
  [/^must be at most (\S+)$/, "får vara högst $1"],
  [/^is not valid$/, "är inte giltigt"],
];

function fieldMessage(message) {
  if (lang() !== "sv") return message;
  for (const [pattern, words] of SV_FIELD_MESSAGES) {
    if (pattern.test(message)) return message.replace(pattern, words);
  }
  return message;
}

// The field problems of a 422, for showing next to the fields: [{field, message}].
export function fieldErrors(error) {
  if (!(error instanceof ApiError)) return [];
  if (typeof error.details.field === "string") return [{ field: error.details.field, message: plainWords(error) }];
  if (!Array.isArray(error.details.errors)) return [];
  return error.details.errors
    .filter((e) => e && typeof e.field === "string")
    .map((e) => ({ field: e.field, message: fieldMessage(String(e.message || "")) }));
}

// What to tell the person, in the portal's language, for any failure.
export function plainWords(error) {
  if (!(error instanceof ApiError)) return t("error.server");
  switch (error.kind) {
    case "network":
      return t("error.network");
    case "route_missing":
      return t("error.routeMissing");
    case "bad_response":
      return t("error.badResponse");
    default:
      break;
  }
  if (error.status === 401) return t("error.unauthorized");
  if (error.code) {
    const translated = errorWords(error.code, error.details);
    if (translated) return translated;
    if (error.apiMessage) return error.apiMessage;
  }
  if (error.status === 403) return t("error.forbidden");
  if (error.status === 404) return t("error.notFound");
  if (error.status === 503) return t("error.unavailable");
  return t("error.server");
}
