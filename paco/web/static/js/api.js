// JSON calls to PaCo's REST API. Authentication is the HttpOnly cookie the login sets; state-changing
// calls echo the readable CSRF cookie in a header (double-submit), as the server requires.

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrf_access_token=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : null;
}

// Resolves to {ok, status, data, code, message, retryAfter}; never throws, so every screen
// handles failures in one place. status 0 means the network could not be reached.
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') {
    const csrf = csrfToken();
    if (csrf) headers['X-CSRF-TOKEN'] = csrf;
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return { ok: false, status: 0, data: null, code: 'network',
             message: 'We could not reach PaCo. Check your internet connection and try again.' };
  }
  let data = null;
  try { data = await response.json(); } catch { /* an empty or non-JSON body */ }
  const error = data && data.error ? data.error : {};
  const retry = Number.parseInt(response.headers.get('Retry-After') || '', 10);
  return {
    ok: response.ok, status: response.status, data,
    code: error.code || (response.ok ? null : 'http_' + response.status),
    message: error.message || (response.ok ? null : 'Something went wrong. Please try again.'),
    retryAfter: Number.isFinite(retry) ? retry : null,
  };
}

export const signIn = {
  validate: (researchId) => api('POST', '/auth/validate-research-id', { research_id: researchId }),
  disclaimer: () => api('GET', '/auth/disclaimer'),
  acknowledge: (researchId, version) =>
    api('POST', '/auth/acknowledge-disclaimer', { research_id: researchId, version }),
  // The body's access_token is ignored on purpose: the cookie is the web app's only credential.
  login: (researchId) => api('POST', '/auth/login', { research_id: researchId }),
  session: () => api('GET', '/auth/session'),
  logout: () => api('POST', '/auth/logout'),
};

export const chatApi = {
  conversations: () => api('GET', '/chat/conversations'),
  history: (researchId, conversationId, limit = 100) =>
    api('POST', '/chat/history', { research_id: researchId, conversation_id: conversationId, limit }),
};

// Minutes east of UTC, as the check-in API counts them (JavaScript's offset is the other way).
export const tzOffsetMinutes = () => -new Date().getTimezoneOffset();

export const checkinApi = {
  recent: (days = 14) => api('GET', `/adherence/checkins?days=${days}&tz_offset_minutes=${tzOffsetMinutes()}`),
  answer: (taken, reason = null, note = null) => api('POST', '/adherence/checkin', {
    taken, ...(reason ? { reason } : {}), ...(note ? { note } : {}), tz_offset_minutes: tzOffsetMinutes(),
  }),
};

export const speechApi = {
  // A stored answer's sentences, from the audio cache or synthesised now.
  answer: (messageId) => api('POST', '/audio/speech', { message_id: messageId }),
  // The check-in card read aloud: 'checkin' (the question) or 'checkin_reason'.
  prompt: (name) => api('POST', '/audio/speech', { prompt: name }),
};

export function isSessionError(result) {
  return result.status === 401 || (result.status === 403 && result.code === 'disclaimer_required')
    || (result.status === 403 && result.code === 'research_id_inactive');
}
