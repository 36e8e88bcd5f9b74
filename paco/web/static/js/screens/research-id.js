// Research-ID screen: one large field; Enter submits. Errors say what to do next.

import { signIn } from '../api.js';
import { byId, showScreen } from '../dom.js';

const EMPTY = 'Please type your research ID. It is on the card your study team gave you.';
const MALFORMED = 'A research ID has only letters and numbers, like RID001. Check the card your study team gave you.';

export function tooManyTries(seconds) {
  const s = Math.max(1, Math.ceil(seconds));
  return `Too many tries. Please wait ${s} second${s === 1 ? '' : 's'}, then try again.`;
}

export function createResearchId(flow) {
  const form = byId('rid-form');
  const input = byId('rid-input');
  const error = byId('rid-error');
  const notice = byId('rid-notice');
  const submit = byId('rid-submit');
  let busy = false;
  let waitUntil = 0;
  let timer = null;

  function showError(message) {
    error.textContent = message || '';
    input.setAttribute('aria-invalid', message ? 'true' : 'false');
  }

  // The alert is said once; the countdown lives on the button so it is not read every second.
  function wait(seconds) {
    waitUntil = Date.now() + seconds * 1000;
    showError(tooManyTries(seconds));
    const tick = () => {
      const left = Math.ceil((waitUntil - Date.now()) / 1000);
      if (left > 0) {
        submit.setAttribute('aria-disabled', 'true');
        submit.textContent = `Please wait ${left} s`;
        timer = setTimeout(tick, 1000);
      } else {
        submit.removeAttribute('aria-disabled');
        submit.textContent = 'Continue';
        showError('');
      }
    };
    clearTimeout(timer);
    tick();
  }

  async function check() {
    const researchId = input.value.trim().toUpperCase();
    if (!researchId) {
      showError(EMPTY);
      return;
    }
    busy = true;
    submit.textContent = 'Checking…';
    const result = await signIn.validate(researchId);
    busy = false;
    submit.textContent = 'Continue';
    if (result.status === 429) return wait(result.retryAfter || 60);
    if (result.status === 400) return showError(MALFORMED);
    if (!result.ok) return showError(result.message);
    if (!result.data.valid) {
      showError(result.data.message);
      input.select();
      return undefined;
    }
    if (result.data.disclaimer_required) return flow.toDisclaimer(researchId);
    const problem = await flow.login(researchId);
    if (problem) showError(problem);
    return undefined;
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (busy) return;
    if (Date.now() < waitUntil) {
      input.focus();
      return;
    }
    check();
  });

  return {
    show(message = null, prefill = null) {
      notice.textContent = message || '';
      notice.hidden = !message;
      if (prefill != null) input.value = prefill;
      showError('');
      showScreen('research-id', 'rid-input');
    },
  };
}
