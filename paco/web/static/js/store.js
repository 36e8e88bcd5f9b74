// Small, non-secret state kept in the browser. The access token is never stored here: it lives
// only in the HttpOnly cookie the server sets.

function safe(storage) {
  try {
    const probe = '__paco__';
    storage.setItem(probe, probe);
    storage.removeItem(probe);
    return storage;
  } catch {
    return null; // private browsing or storage turned off: the app still works, it just forgets
  }
}

const session = safe(window.sessionStorage);
const local = safe(window.localStorage);

function reader(storage) {
  return {
    get(key, fallback = null) {
      const raw = storage?.getItem(`paco.${key}`);
      if (raw == null) return fallback;
      try { return JSON.parse(raw); } catch { return fallback; }
    },
    set(key, value) {
      try { storage?.setItem(`paco.${key}`, JSON.stringify(value)); } catch { /* full: forget */ }
    },
    remove(key) { storage?.removeItem(`paco.${key}`); },
  };
}

// Tab-lifetime state: research ID, conversation, draft, audio addresses for replay.
export const tab = reader(session);
// Device-wide preferences: voice on/off.
export const prefs = reader(local);
