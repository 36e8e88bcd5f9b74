// PaCo's participant page: decides where to start (resume the session, or sign in) and moves
// between the three screens. The only credential is the HttpOnly cookie set by the server.

import { signIn } from './api.js';
import { createChat, expiredMessage, NEW_VERSION } from './screens/chat.js';
import { createDisclaimer } from './screens/disclaimer.js';
import { createResearchId, tooManyTries } from './screens/research-id.js';
import { tab } from './store.js';

const flow = {
  toResearchId: (message, prefill) => researchId.show(message, prefill),
  toDisclaimer: (id, message) => disclaimer.show(id, message),
  // Resolves to null once the chat is open, or to a message saying why not.
  async login(id) {
    const result = await signIn.login(id);
    if (result.ok) {
      await chat.enter(id);
      return null;
    }
    if (result.code === 'disclaimer_required') {
      disclaimer.show(id);
      return null;
    }
    if (result.status === 429) return tooManyTries(result.retryAfter || 60);
    return result.message;
  },
};

const researchId = createResearchId(flow);
const disclaimer = createDisclaimer(flow);
const chat = createChat(flow);

// The readable CSRF cookie is set and cleared with the HttpOnly session cookie: without it there
// is no session to resume, and asking would only log a 401 in the console.
const maybeSignedIn = () => /(?:^|;\s*)csrf_access_token=/.test(document.cookie);

async function start() {
  // Set when the chat opens in this tab, removed by signing out: if it is here, a session ended.
  const known = tab.get('researchId');
  const ended = known ? expiredMessage(Boolean(tab.get('draft')?.text)) : null;
  if (!maybeSignedIn()) return flow.toResearchId(ended, known);
  const result = await signIn.session();
  if (result.ok) return chat.enter(result.data.research_id);
  if (result.code === 'disclaimer_required' && known) return flow.toDisclaimer(known, NEW_VERSION);
  if (result.status === 403) return flow.toResearchId(result.message);
  if (result.status === 0) return flow.toResearchId(result.message, known);
  return flow.toResearchId(result.status === 401 ? ended || expiredMessage(false) : null, known);
}

start();
