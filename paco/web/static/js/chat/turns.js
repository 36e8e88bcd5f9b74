// Turns of the conversation as the socket reports them (DESIGN.md §4): a question is shown at
// once, confirmed by user_message_saved, answered by chunks and audio frames, closed by
// complete and then audio_end/audio_error. Turns on one socket run one after another, so the
// oldest confirmed turn that is not closed yet owns every chunk and audio frame.

import { clipFromBase64 } from '../audio-queue.js';

let counter = 0;
const newClientId = () =>
  `w${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;

export class Turns {
  // hooks: refused(turn, frame) for a question the server did not accept,
  //        notice(message) for a problem that belongs to no question,
  //        voiceKept(messageId, urls) when an answer's audio addresses are known.
  constructor({ view, audio, announcer, socket, hooks }) {
    Object.assign(this, { view, audio, announcer, socket, hooks });
    this.turns = new Map(); // client_id -> turn
    this.active = [];       // confirmed turns whose answer is not closed yet, oldest first
    this.thinkingShown = false;
    socket.addEventListener('frame', (event) => this._frame(event.detail.frame));
    socket.addEventListener('sent', (event) => this._sent(event.detail.frame));
  }

  // input: "voice" when speech input wrote the question, "text" when it was typed (for the study).
  ask(conversationId, text, input = 'text') {
    const clientId = newClientId();
    const frame = { type: 'message', conversation_id: conversationId, message: text, client_id: clientId, input };
    const node = this.view.addUser(text, { pending: !this.socket.ready });
    this.turns.set(clientId, { clientId, text, node, answer: null, sent: false, saved: false,
      completed: false, detached: false, error: null, voice: [], messageId: null });
    this.socket.send(frame);
    this._updateThinking();
  }

  // PaCo's answer to the barrier named in a check-in: the participant's answer shows as their
  // message (the server stores the same text), then the reply streams like any other.
  checkin(conversationId, checkinId, text) {
    const clientId = newClientId();
    const frame = { type: 'checkin', conversation_id: conversationId, checkin_id: checkinId, client_id: clientId };
    const node = this.view.addUser(text, { pending: !this.socket.ready });
    this.turns.set(clientId, { clientId, text, node, answer: null, sent: false, saved: false, checkin: true,
      completed: false, detached: false, error: null, voice: [], messageId: null });
    this.socket.send(frame);
    this._updateThinking();
  }

  // Questions shown on screen but not stored yet, oldest first (kept when a session ends).
  unsaved() {
    return [...this.turns.values()].filter((t) => !t.saved && !t.detached && !t.checkin);
  }

  // A new conversation: answers still arriving for the old one are read but not shown.
  detachAll() {
    for (const turn of this.turns.values()) turn.detached = true;
    this._updateThinking();
  }

  // After a reconnect: the answers cut off by the drop were finished by the server and are in
  // its history; questions whose fate is unknown are sent again only if history lacks them.
  async settle(uncertain, reconnected, reload) {
    const cutOff = this.active.length > 0;
    for (const turn of this.active) {
      this.turns.delete(turn.clientId);
      if (turn.answer && !turn.completed) turn.answer.finish({});
    }
    this.active = [];
    if (!reconnected || (!cutOff && !uncertain.length)) return uncertain;
    const knownIds = new Set([...this.view.list.querySelectorAll('.msg-user[data-message-id]')]
      .map((node) => node.dataset.messageId));
    const messages = await reload(); // redraws the history, then the questions still waiting
    if (!messages) return uncertain;
    const arrived = messages.filter((m) => m.role === 'user' && !knownIds.has(String(m.id))).map((m) => m.content);
    const again = [];
    for (const frame of uncertain) {
      const text = frame.message ?? this.turns.get(frame.client_id)?.text ?? '';
      const found = arrived.indexOf(text.trim());
      if (found >= 0) { // the server has it: history shows it (and its answer, once written)
        arrived.splice(found, 1);
        this.turns.get(frame.client_id)?.node?.remove();
        this.turns.delete(frame.client_id);
      } else {
        again.push(frame);
      }
    }
    this._updateThinking();
    return again;
  }

  // History was redrawn: show the questions still waiting to go out below it.
  reattach() {
    for (const turn of this.turns.values()) {
      if (turn.detached || turn.saved) continue;
      turn.node = this.view.addUser(turn.text, { pending: true });
    }
    this._updateThinking();
  }

  _sent(frame) {
    const turn = this.turns.get(frame.client_id);
    if (!turn) return;
    turn.sent = true;
    this.view.markSent(turn.node);
    this._updateThinking();
  }

  _frame(frame) {
    switch (frame.type) {
      case 'user_message_saved': return this._saved(frame);
      case 'chunk': return this._chunk(frame);
      case 'audio': return this._audio(frame);
      case 'complete': return this._complete(frame);
      case 'audio_end':
      case 'audio_error': return this._end(frame);
      case 'error': return this._error(frame);
      case 'notice': return this.hooks.notice(frame.message);
      default: return undefined;
    }
  }

  _saved(frame) {
    // The server starts a turn only when the previous one is over: close any left open.
    while (this.active.length) this._close(this.active[0]);
    let turn = this.turns.get(frame.client_id);
    if (!turn) { // not ours to show (e.g. sent before a reload); still owns the frames that follow
      turn = { clientId: frame.client_id || `x${frame.message_id}`, detached: true, voice: [] };
      this.turns.set(turn.clientId, turn);
    }
    Object.assign(turn, { saved: true, sent: true, messageId: frame.message_id });
    if (turn.node) {
      turn.node.dataset.messageId = frame.message_id;
      this.view.markSent(turn.node);
    }
    this.active.push(turn);
    this._updateThinking();
  }

  _answer(turn) {
    if (!turn.answer) {
      turn.answer = this.view.startAnswer({ attach: !turn.detached });
      if (!turn.detached) {
        this.announcer.reset();
        this.audio.live(turn.clientId);
      }
      this._updateThinking();
    }
    return turn.answer;
  }

  _chunk(frame) {
    const turn = this.active[0];
    if (!turn) return;
    this._answer(turn).append(frame.content);
    if (turn.detached) return;
    this.announcer.stream(frame.content);
    this.view.follow();
  }

  _audio(frame) {
    const turn = this.active[0];
    if (!turn) return;
    const answer = this._answer(turn);
    if (frame.audio_url) turn.voice[frame.seq - 1] = frame.audio_url;
    if (turn.detached) return;
    this.audio.add(turn.clientId, frame.seq, frame.audio_base64 ? clipFromBase64(frame.audio_base64) : frame.audio_url);
    this.view.growing(() => this.view.register(answer, turn.clientId));
  }

  _complete(frame) {
    const turn = this.turns.get(frame.client_id) || this.active[0];
    if (!turn) return;
    turn.completed = true;
    turn.messageId = frame.message_id;
    const answer = this._answer(turn);
    answer.node.dataset.messageId = frame.message_id;
    this.view.growing(() => answer.finish({ text: frame.full_response, status: frame.status, safety: frame.safety }));
    if (!turn.detached) this.announcer.flush();
    this._updateThinking();
  }

  _end(frame) {
    const turn = this.active[0];
    if (!turn) return;
    if (frame.type === 'audio_error' && !turn.detached) {
      this.view.growing(() => this._answer(turn).addNote("PaCo's voice is not available right now. The text is complete."));
    }
    this._close(turn);
  }

  _close(turn) {
    this.active = this.active.filter((t) => t !== turn);
    this.turns.delete(turn.clientId);
    if (!turn.detached) {
      if (!turn.completed) {
        const answer = this._answer(turn);
        const partial = answer.text.textContent;
        answer.finish({ text: partial || turn.error?.message || null, status: 'failed' });
        this.announcer.say(answer.text.textContent);
      }
      this.audio.finish(turn.clientId);
    }
    const urls = turn.voice.filter(Boolean);
    if (turn.messageId && urls.length && urls.length === turn.voice.length) this.hooks.voiceKept(turn.messageId, urls);
    this._updateThinking();
  }

  _error(frame) {
    const turn = frame.client_id ? this.turns.get(frame.client_id) : null;
    if (!turn) {
      this.hooks.notice(frame.message);
      return;
    }
    if (!turn.saved) { // refused: it was never stored, so nothing else will come for it
      this.turns.delete(turn.clientId);
      turn.node?.remove();
      this._updateThinking();
      if (!turn.detached) this.hooks.refused(turn, frame);
      return;
    }
    turn.error = frame;
    if (frame.code !== 'provider_unavailable' && !turn.completed && !turn.detached) {
      // PaCo could not store or finish the answer: say so now rather than wait.
      this._answer(turn).finish({ text: turn.answer?.text.textContent || frame.message, status: 'failed' });
    }
    this._updateThinking();
  }

  _updateThinking() {
    const head = this.active[0];
    const streaming = head && head.answer && !head.completed && !head.error;
    const waiting = [...this.turns.values()].some((t) => !t.detached && t.sent && !t.answer && !t.error);
    const show = Boolean(waiting && !streaming);
    if (show && !this.thinkingShown) this.announcer.say('PaCo is thinking.');
    this.thinkingShown = show;
    this.view.setThinking(show);
  }
}
