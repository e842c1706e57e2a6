// The agencies the API knows, asked for once per page load.
let agencyList = null;

export async function agencies(view) {
  agencyList = agencyList || (await view.api("/agencies"));
  return agencyList;
}
