// Voice typing through the browser's Web Speech API, where it exists. The words appear in the
// box as they are heard; the person reads them and sends (nothing is sent on its own).
// Note: browsers may send the audio to their own speech service to recognise it.

const Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;

export const speechSupported = typeof Recognition === 'function';

export const UNSUPPORTED = 'Voice typing does not work in this browser. Please type your question. '
  + '(Voice typing works in Chrome, Edge and Safari.)';

const PROBLEMS = {
  'not-allowed': 'PaCo may not use the microphone. To talk instead of typing, allow the microphone in your browser settings.',
  'service-not-allowed': 'Voice typing is turned off in this browser. Please type your question.',
  'audio-capture': 'No microphone was found. Please type your question.',
  'no-speech': 'I did not hear anything. Tap the microphone and try again.',
  network: 'Voice typing needs an internet connection. Please type your question.',
  'language-not-supported': 'Voice typing does not support English here. Please type your question.',
};

export function explain(code) {
  return PROBLEMS[code] || 'Voice typing stopped. Please try again, or type your question.';
}

// Events: 'text' {text} (what was heard so far), 'error' {code, message}, 'end'.
export class SpeechInput extends EventTarget {
  constructor(lang = document.documentElement.lang || 'en-US') {
    super();
    this.lang = lang === 'en' ? 'en-US' : lang;
    this.recognition = null;
  }

  get listening() {
    return this.recognition !== null;
  }

  start(prefix = '') {
    if (!speechSupported || this.recognition) return;
    const recognition = new Recognition();
    recognition.lang = this.lang;
    recognition.interimResults = true;
    recognition.continuous = false;
    recognition.maxAlternatives = 1;
    recognition.onresult = (event) => {
      let heard = '';
      for (const result of event.results) heard += result[0].transcript;
      const text = [prefix.trim(), heard.trim()].filter(Boolean).join(' ');
      this.dispatchEvent(new CustomEvent('text', { detail: { text } }));
    };
    recognition.onerror = (event) => {
      if (event.error === 'aborted') return;
      this.dispatchEvent(new CustomEvent('error', { detail: { code: event.error, message: explain(event.error) } }));
    };
    recognition.onend = () => {
      this.recognition = null;
      this.dispatchEvent(new Event('end'));
    };
    this.recognition = recognition;
    try {
      recognition.start();
    } catch {
      this.recognition = null;
      this.dispatchEvent(new CustomEvent('error', { detail: { code: 'start', message: explain('start') } }));
      this.dispatchEvent(new Event('end'));
    }
  }

  stop() {
    if (this.recognition) this.recognition.stop();
  }
}
