// Disclaimer screen: the current version's text from the API; "I agree" records that version.

import { signIn } from '../api.js';
import { byId, el, showScreen } from '../dom.js';

const UPDATED = 'The study information was just updated. Please read the new version.';

// Blank lines separate paragraphs; single line breaks are only the author's wrapping.
function paragraphs(text) {
  return text.split(/\n\s*\n/).map((p) => p.replace(/\s*\n\s*/g, ' ').trim()).filter(Boolean);
}

export function createDisclaimer(flow) {
  const body = byId('disclaimer-text');
  const meta = byId('disclaimer-version');
  const error = byId('disclaimer-error');
  const notice = byId('disclaimer-notice');
  const accept = byId('disclaimer-accept');
  let researchId = null;
  let version = null;
  let busy = false;

  async function show(id, message = null) {
    researchId = id;
    version = null;
    notice.textContent = message || '';
    notice.hidden = !message;
    error.textContent = '';
    body.replaceChildren(el('p', {}, 'Loading…'));
    meta.textContent = '';
    showScreen('disclaimer', 'disclaimer-title');
    const result = await signIn.disclaimer();
    if (!result.ok) {
      body.replaceChildren();
      error.textContent = result.status === 404
        ? 'The study information is not ready yet. Please try again later, or contact your study team.'
        : result.message;
      return;
    }
    version = result.data.version;
    body.replaceChildren(...paragraphs(result.data.text).map((p) => el('p', {}, p)));
    meta.textContent = `Version ${version}`;
  }

  accept.addEventListener('click', async () => {
    if (busy || version == null) return;
    busy = true;
    accept.textContent = 'Saving…';
    const result = await signIn.acknowledge(researchId, version);
    let problem = null;
    if (result.status === 409) {
      await show(researchId, UPDATED);
    } else if (result.status === 403) {
      flow.toResearchId(result.message);
    } else if (!result.ok) {
      problem = result.message;
    } else {
      problem = await flow.login(researchId);
    }
    busy = false;
    accept.textContent = 'I agree';
    if (problem) error.textContent = problem;
  });

  byId('disclaimer-back').addEventListener('click', () => flow.toResearchId(null, ''));

  return { show };
}
