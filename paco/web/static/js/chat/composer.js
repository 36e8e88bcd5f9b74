// The question box: Enter sends (Shift+Enter starts a new line), it grows with the text, keeps a
// draft for the tab, and offers voice typing where the browser has it.

import { byId } from '../dom.js';
import { SpeechInput, UNSUPPORTED, speechSupported } from '../speech-input.js';

// The server's limit (PACO_MAX_MESSAGE_CHARS) comes with the page; text over it is never cut:
// the counter says so as it nears the limit, and Send asks for a shorter message.
const DEFAULT_MAX_CHARS = 2000;

export class Composer {
  constructor({ onSend, onDraft }) {
    this.form = byId('composer');
    this.input = byId('composer-input');
    this.note = byId('composer-note');
    this.count = byId('composer-count');
    this.mic = byId('mic-button');
    this.micLabel = byId('mic-label');
    this.max = Number.parseInt(this.input.dataset.maxChars, 10) || DEFAULT_MAX_CHARS;
    this.warnAt = Math.floor(this.max * 0.9);
    this.onSend = onSend;
    this.onDraft = onDraft;
    this.speech = new SpeechInput();
    this.spoken = false; // speech input wrote (some of) the text in the box

    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.send();
    });
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
      }
    });
    this.input.addEventListener('input', () => this._changed());
    this._setUpMic();
  }

  get value() {
    return this.input.value;
  }

  set value(text) {
    this.input.value = text; // never cut: an over-long text is kept and the counter says so
    this._changed();
  }

  focus() {
    this.input.focus();
  }

  say(message, { error = false } = {}) {
    this.note.textContent = message || '';
    this.note.classList.toggle('is-error', Boolean(message) && error);
  }

  // Puts text back (a refused or unsent question) without losing what is in the box now.
  restore(text) {
    const now = this.input.value.trim();
    this.value = now ? `${text}\n${now}` : text;
  }

  send(text = this.input.value) {
    if (this.speech.listening) this.speech.stop();
    const message = text.trim();
    if (!message) {
      this.say('Type a question first, then press Send.', { error: true });
      this.focus();
      return;
    }
    if (message.length > this.max) {
      this.say(`Your message is ${message.length} characters long. PaCo can read up to ${this.max}. `
        + 'Please shorten it, or send it in two parts.', { error: true });
      if (text !== this.input.value) this.value = text;
      this.focus();
      return;
    }
    this.say('');
    const fromBox = text === this.input.value;
    const input = fromBox && this.spoken ? 'voice' : 'text';
    if (fromBox) this.value = '';
    this.onSend(message, input);
  }

  _changed() {
    const length = this.input.value.length;
    if (!length) this.spoken = false;
    const over = this.input.value.trim().length - this.max;
    if (over > 0) {
      this.count.textContent = `${over} character${over === 1 ? '' : 's'} too many: please shorten your message.`;
    } else {
      this.count.textContent = length >= this.warnAt ? `${Math.max(0, this.max - length)} characters left` : '';
    }
    this.count.classList.toggle('is-over', over > 0);
    this.input.setAttribute('aria-invalid', String(over > 0));
    // Grow with the text up to the CSS max-height, then scroll inside.
    this.input.style.height = 'auto';
    this.input.style.height = `${this.input.scrollHeight + 4}px`;
    this.onDraft(this.input.value);
  }

  _setUpMic() {
    if (!speechSupported) {
      // Still focusable and pressable, so the explanation is found by everyone.
      this.mic.setAttribute('aria-disabled', 'true');
      this.mic.setAttribute('aria-describedby', 'composer-note');
      this.mic.addEventListener('click', () => this.say(UNSUPPORTED));
      return;
    }
    this.mic.addEventListener('click', () => {
      if (this.speech.listening) {
        this.speech.stop();
        return;
      }
      this.speech.start(this.input.value);
      this._listening(true);
    });
    this.speech.addEventListener('text', (event) => {
      this.value = event.detail.text;
      this.spoken = true;
    });
    this.speech.addEventListener('error', (event) => this.say(event.detail.message, { error: true }));
    this.speech.addEventListener('end', () => this._listening(false));
  }

  _listening(on) {
    this.mic.setAttribute('aria-pressed', String(on));
    this.micLabel.textContent = on ? 'Stop listening' : 'Speak your question';
    if (on) this.say('Listening… Speak now. Your words will appear in the box.');
    else if (this.note.textContent.startsWith('Listening')) {
      this.say(this.input.value.trim() ? 'Check your words, then press Send.' : '');
    }
  }
}
