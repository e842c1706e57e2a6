// The JSON API under /api/v1: the token on every request, problems as ApiError with the
// API's own words, and a way to cancel (an AbortSignal) when the user moves on.
import { token } from "./state.js";

export const API = "/api/v1";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let unauthorised = () => {};

/** What to do when the API says the session has ended (401). */
export function onUnauthorised(handler) {
  unauthorised = handler;
}

export async function api(path, { method = "GET", body, params, raw = false, signal } = {}) {
  const url = new URL(API + path, window.location.origin);
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== "" && value !== null && value !== undefined) url.searchParams.set(key, value);
  }
  const headers = {};
  const bearer = token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  if (response.status === 401 && path !== "/auth/token") {
    unauthorised("Your session has ended. Sign in again.");
    throw new ApiError(401, "Sign in again.");
  }
  if (!response.ok) throw new ApiError(response.status, await problem(response));
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

async function problem(response) {
  const fallback = `The request failed (${response.status}).`;
  try {
    const detail = (await response.json()).detail;
    if (Array.isArray(detail))
      return detail.map((d) => `${d.loc.slice(1).join(".")}: ${d.msg}`).join("; ");
    return detail || fallback;
  } catch (_) {
    return fallback; // not JSON
  }
}
