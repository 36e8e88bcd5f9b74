// A polite live region for screen readers. Streamed answers are announced a whole sentence at a
// time: announcing every word would be unlistenable, and waiting for the end would be slow.

const ABBREVIATION = /(?:^|\s)(?:(?:[A-Za-z]\.){2,}|[A-Z]\.|Dr\.|Mr\.|Mrs\.|Ms\.|St\.|vs\.|etc\.|e\.g\.|i\.e\.)$/;
const BOUNDARY = /[.!?…]["'”’)\]]*\s+/g;

export class Announcer {
  constructor(region) {
    this.region = region;
    this.buffer = '';
  }

  say(text) {
    const line = text.trim();
    if (!line) return;
    const node = document.createElement('p');
    node.textContent = line;
    this.region.append(node);
    while (this.region.childElementCount > 4) this.region.firstElementChild.remove();
  }

  stream(delta) {
    this.buffer += delta;
    let start = 0;
    BOUNDARY.lastIndex = 0;
    for (let match = BOUNDARY.exec(this.buffer); match; match = BOUNDARY.exec(this.buffer)) {
      const end = match.index + match[0].trimEnd().length;
      const sentence = this.buffer.slice(start, end);
      if (ABBREVIATION.test(sentence)) continue; // "P.A.D. stands for…" is one sentence
      this.say(sentence);
      start = match.index + match[0].length;
    }
    this.buffer = this.buffer.slice(start);
  }

  flush() {
    this.say(this.buffer);
    this.buffer = '';
  }

  reset() {
    this.buffer = '';
  }
}
