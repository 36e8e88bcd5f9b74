// The daily check-in card: "Did you take your P.A.D. medicines today?" with three large answers,
// an optional reason for "some" or "none", and the participant's last 14 days as a strip of shapes
// with words (never colour alone). It sits above the question box: it never blocks the chat, it
// can be closed ("Not now" is remembered for the day), and it is read aloud when the voice is on.

import { checkinApi, isSessionError, speechApi } from '../api.js';
import { byId, el } from '../dom.js';
import { prefs } from '../store.js';

const SVG = 'http://www.w3.org/2000/svg';
const DAYS = 14;
const KINDS = {
  all: { label: 'All of them', short: 'all' },
  some: { label: 'Some of them', short: 'some' },
  none: { label: 'None of them', short: 'none' },
  blank: { label: 'No answer', short: 'no answer' },
};
const OWN_WORDS_MAX = 280;

// A day's mark: filled circle (all), half-filled (some), empty ring (none), small dashed ring (no answer).
function shape(kind) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', `day-shape shape-${kind}`);
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const use = document.createElementNS(SVG, 'use');
  use.setAttribute('href', `#i-day-${kind}`);
  svg.append(use);
  return svg;
}

const utcDay = (iso) => new Date(`${iso}T00:00:00Z`);
const isoDay = (date) => date.toISOString().slice(0, 10);
const longDate = (date) => date.toLocaleDateString('en-US', { weekday: 'long', month: 'long', day: 'numeric', timeZone: 'UTC' });

export class CheckinCard {
  // hooks: replyWanted(checkin) after an answer that names a reason (PaCo answers it in the chat),
  //        sessionEnded(result) when the sign-in is no longer valid,
  //        closed(hadFocus) when the card is put away.
  constructor({ audio, announcer, hooks }) {
    this.root = byId('checkin');
    this.openButton = byId('checkin-open');
    this.audio = audio;
    this.announcer = announcer;
    this.hooks = hooks;
    this.researchId = null;
    this.data = null;       // the last GET /adherence/checkins answer
    this.step = null;       // ask | reason | own-words | done | view
    this.taken = null;
    this.busy = false;
    this.root.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') { event.preventDefault(); this.close(); }
    });
  }

  // Called when the chat opens: asks once a day, unless today is answered or was put off.
  async load(researchId) {
    this.researchId = researchId;
    this.hide();
    const result = await checkinApi.recent(DAYS);
    if (researchId !== this.researchId) return;
    if (!result.ok) {
      if (isSessionError(result)) this.hooks.sessionEnded(result);
      return; // the chat works without the card
    }
    this.data = result.data;
    this.openButton.hidden = !this.data.enabled;
    if (this.data.due && !this._putOff()) this._show('ask');
  }

  // From the menu: the strip, and today's answer (or a way to give it).
  open() {
    if (!this.data) return;
    this._show('view', true);
  }

  hide() {
    this.root.hidden = true;
    this.root.replaceChildren();
    this.step = null;
  }

  close() {
    if (this.step === 'ask') this._putOffToday();
    if (this.step === 'reason' || this.step === 'own-words') {
      this._save(this.taken, null, null, true); // they answered: keep it, without a reason
      return;
    }
    this._closed();
  }

  _closed() {
    const hadFocus = this.root.contains(document.activeElement);
    this.hide();
    this.announcer.say('Check-in closed.');
    this.hooks.closed(hadFocus);
  }

  get visible() {
    return !this.root.hidden;
  }

  // ---- steps ----

  _show(step, focus = false) {
    this.step = step;
    this.root.hidden = false;
    const question = this.data.question;
    const head = el('div', { class: 'checkin-head' },
      el('h2', { id: 'checkin-title', class: 'checkin-title', tabindex: '-1' }, 'Daily check-in'),
      el('button', { type: 'button', class: 'btn btn-quiet checkin-close', onclick: () => this.close() },
        step === 'ask' ? 'Not now' : 'Close'));
    const body = {
      ask: () => this._ask(question),
      reason: () => this._reasons(question),
      'own-words': () => this._ownWords(),
      done: () => this._done(),
      view: () => this._done(),
    }[step]();
    this.root.replaceChildren(head, ...body, el('p', { class: 'error checkin-error', id: 'checkin-error', role: 'alert' }));
    const target = focus ? this.root.querySelector('[data-focus]') || byId('checkin-title') : null;
    if (target) target.focus();
    if (step === 'ask') {
      this.announcer.say(`PaCo asks: ${question.text}`);
      this._speak('checkin');
    } else if (step === 'reason') {
      this._speak('checkin_reason');
    }
  }

  _ask(question) {
    const buttons = question.answers.map(({ code, label }) => el('button', {
      type: 'button', class: `btn checkin-answer answer-${code}`, 'data-taken': code,
      onclick: () => this._answered(code),
    }, shape(code), label));
    buttons[0].dataset.focus = '';
    return [
      el('p', { class: 'checkin-question', id: 'checkin-question' }, question.text),
      el('div', { class: 'checkin-answers', role: 'group', 'aria-labelledby': 'checkin-question' }, buttons),
    ];
  }

  _reasons(question) {
    const buttons = question.reasons.map(({ code, label }) => el('button', {
      type: 'button', class: 'btn checkin-reason', 'data-reason': code,
      onclick: () => (code === 'other' ? this._show('own-words', true) : this._save(this.taken, code)),
    }, label));
    return [
      el('p', { class: 'checkin-question', id: 'checkin-why', tabindex: '-1', 'data-focus': '' },
        'Thank you. What got in the way?'),
      el('p', { class: 'hint' }, 'Choosing a reason is up to you. PaCo will share some ideas.'),
      el('div', { class: 'checkin-reasons', role: 'group', 'aria-labelledby': 'checkin-why' }, buttons),
      el('button', { type: 'button', class: 'btn btn-secondary checkin-skip', onclick: () => this._save(this.taken, null) },
        'Skip this question'),
    ];
  }

  _ownWords() {
    const field = el('textarea', { id: 'checkin-note', class: 'checkin-note', rows: '2', 'data-focus': '',
      'aria-describedby': 'checkin-note-hint' });
    const hint = el('p', { class: 'hint', id: 'checkin-note-hint' }, `Optional. Up to ${OWN_WORDS_MAX} characters.`);
    field.addEventListener('input', () => {
      const over = field.value.length - OWN_WORDS_MAX;
      hint.textContent = over > 0 ? `${over} characters too many. Please shorten it.`
        : `Optional. Up to ${OWN_WORDS_MAX} characters.`;
      field.setAttribute('aria-invalid', String(over > 0));
    });
    const save = () => {
      if (field.value.trim().length > OWN_WORDS_MAX) {
        this._error(`Please shorten what you wrote to ${OWN_WORDS_MAX} characters.`);
        field.focus();
        return;
      }
      this._save(this.taken, 'other', field.value.trim());
    };
    return [
      el('label', { class: 'checkin-question', for: 'checkin-note' }, 'What got in the way, in your own words?'),
      hint,
      field,
      el('div', { class: 'checkin-actions' },
        el('button', { type: 'button', class: 'btn btn-primary', onclick: save }, 'Save'),
        el('button', { type: 'button', class: 'btn btn-secondary', onclick: () => this._show('reason', true) }, 'Back')),
    ];
  }

  _done() {
    const today = this._today();
    const said = today
      ? `Today: ${KINDS[today.taken].label}${today.reason ? ` (${this._reasonLabel(today.reason)})` : ''}.`
      : 'You have not answered today yet.';
    const parts = [
      el('p', { class: 'checkin-done', id: 'checkin-done', tabindex: '-1', 'data-focus': '' },
        this.step === 'done' ? `Thank you. ${said}` : said),
      this._strip(),
    ];
    const actions = el('div', { class: 'checkin-actions' });
    actions.append(el('button', { type: 'button', class: 'btn btn-secondary', onclick: () => this._show('ask', true) },
      today ? "Change today's answer" : 'Answer now'));
    parts.push(actions);
    return parts;
  }

  // ---- the strip of the last 14 days ----

  _strip() {
    const byDate = new Map(this.data.checkins.map((c) => [c.date, c]));
    const end = utcDay(this.data.today);
    const counts = { all: 0, some: 0, none: 0, blank: 0 };
    const days = [];
    for (let back = DAYS - 1; back >= 0; back -= 1) {
      const day = new Date(end.getTime() - back * 86400000);
      const answer = byDate.get(isoDay(day));
      const kind = answer ? answer.taken : 'blank';
      counts[kind] += 1;
      const words = `${longDate(day)}: ${KINDS[kind].label.toLowerCase()}`
        + (answer && answer.reason ? `, ${this._reasonLabel(answer.reason).toLowerCase()}` : '');
      days.push(el('li', { class: `day day-${kind}`, 'data-date': isoDay(day), 'data-kind': kind, title: words },
        el('span', { class: 'day-name', 'aria-hidden': 'true' },
          day.toLocaleDateString('en-US', { weekday: 'narrow', timeZone: 'UTC' })),
        shape(kind),
        el('span', { class: 'day-number', 'aria-hidden': 'true' }, String(day.getUTCDate())),
        el('span', { class: 'visually-hidden' }, words)));
    }
    const summary = `In the last ${DAYS} days: all of them on ${counts.all}, some on ${counts.some}, `
      + `none on ${counts.none}, no answer on ${counts.blank}.`;
    const legend = el('ul', { class: 'strip-legend', 'aria-hidden': 'true' },
      ['all', 'some', 'none', 'blank'].map((kind) => el('li', {}, shape(kind), KINDS[kind].label)));
    return el('div', { class: 'strip-box' },
      el('h3', { class: 'strip-title', id: 'strip-title' }, 'My last 14 days'),
      el('ol', { class: 'strip', 'aria-labelledby': 'strip-title' }, days),
      legend,
      el('p', { class: 'strip-summary' }, summary));
  }

  // ---- answering ----

  _answered(taken) {
    this.taken = taken;
    if (taken === 'all') this._save('all', null);
    else this._show('reason', true);
  }

  async _save(taken, reason, note = null, closeAfter = false) {
    if (this.busy) return;
    this.busy = true;
    this._error('');
    const result = await checkinApi.answer(taken, reason, note);
    this.busy = false;
    if (!result.ok) {
      if (isSessionError(result)) { this.hooks.sessionEnded(result); return; }
      this._error(result.status === 0 ? 'Your answer could not be sent. Check your connection and try again.'
        : result.message);
      return;
    }
    const checkin = result.data.checkin;
    this._putOffToday(false);
    const refreshed = await checkinApi.recent(DAYS);
    if (refreshed.ok) this.data = refreshed.data;
    else this.data.checkins = [...this.data.checkins.filter((c) => c.date !== checkin.date), checkin];
    this.announcer.say('Your answer is saved.');
    if (closeAfter) this._closed();
    else this._show('done', true);
    if (checkin.reply_available && checkin.message) this.hooks.replyWanted(checkin);
  }

  _error(message) {
    const node = byId('checkin-error');
    if (node) node.textContent = message || '';
  }

  // ---- helpers ----

  _today() {
    return this.data ? this.data.checkins.find((c) => c.date === this.data.today) || null : null;
  }

  _reasonLabel(code) {
    return (this.data.question.reasons.find((r) => r.code === code) || { label: code }).label;
  }

  _putOff() {
    const off = prefs.get('checkinPutOff', {});
    return off[this.researchId] === this.data.today;
  }

  _putOffToday(on = true) {
    const off = prefs.get('checkinPutOff', {});
    if (on) off[this.researchId] = this.data.today;
    else delete off[this.researchId];
    prefs.set('checkinPutOff', off);
  }

  // Read the card aloud when PaCo's voice is on, unless an answer is being spoken.
  async _speak(prompt) {
    if (this.audio.muted || this.audio.current) return;
    const step = this.step;
    const result = await speechApi.prompt(prompt);
    if (!result.ok || this.step !== step || this.audio.current) return;
    const key = `prompt-${prompt}`;
    this.audio.finish(key, result.data.audio.map((a) => a.audio_url));
    this.audio.replay(key);
  }
}
