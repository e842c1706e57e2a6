// The signed-in session: the token and the declared purpose live in sessionStorage (cleared
// when the tab closes); who is signed in and the lists the API offers live here.
const store = window.sessionStorage;

export const session = { me: null, purposes: [] };

export const token = () => store.getItem("mast.token");
export const keepToken = (value) => store.setItem("mast.token", value);

export function forget() {
  store.removeItem("mast.token");
  store.removeItem("mast.purpose");
  session.me = null;
}

export const isManager = () => ["manager", "admin"].includes(session.me?.role);

/** A steward works the disputes queue, and opens no searches, pages or alerts. */
export const isSteward = () => session.me?.role === "steward";

/** The data protection officer reviews access (and the audit of every organisation), and
 * opens no searches, pages or alerts. */
export const isDpo = () => session.me?.role === "dpo";

/** The purpose declared for this session's look-ups, or null before one is. */
export function currentPurpose() {
  const saved = store.getItem("mast.purpose");
  return saved ? JSON.parse(saved) : null;
}

export const keepPurpose = (purpose) => store.setItem("mast.purpose", JSON.stringify(purpose));

/** Reviews break-glass: a manager (into records their organisation holds) or the officer. */
export const isReviewer = () => ["manager", "dpo"].includes(session.me?.role);

/** Places and lifts shields by hand. */
export const mayShield = () => ["steward", "manager"].includes(session.me?.role);

/** Sees the shields placed by hand (an administrator and the officer only read them). */
export const seesShields = () => ["steward", "manager", "admin", "dpo"].includes(session.me?.role);
