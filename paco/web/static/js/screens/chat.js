// The chat screen: wires the socket, the turns, the voice and the question box together, and
// hands the person back to sign-in when the session ends (keeping what they typed).

import { chatApi, isSessionError, signIn, speechApi } from '../api.js';
import { Announcer } from '../announcer.js';
import { AudioQueue } from '../audio-queue.js';
import { CheckinCard } from '../chat/checkin.js';
import { Composer } from '../chat/composer.js';
import { currentConversation, keepVoice, startConversation, voiceFor } from '../chat/conversation.js';
import { MessageList } from '../chat/messages.js';
import { Turns } from '../chat/turns.js';
import { byId, el, icon, showScreen } from '../dom.js';
import { ChatSocket } from '../socket.js';
import { prefs, tab } from '../store.js';

const STARTERS = [
  'What is P.A.D.?',
  'Why do I take aspirin?',
  'What if I miss a dose?',
  'How can walking help my legs?',
];

export const NEW_VERSION = 'The study information has changed. Please read it and agree again to keep chatting.';

export function expiredMessage(keptText) {
  return 'Your session has ended. Please enter your research ID again.'
    + (keptText ? ' What you typed is kept.' : '');
}
const BANNERS = {
  reconnecting: 'Connection lost. Trying again… Your messages will wait here.',
  offline: 'You are offline. Your messages will go out when you are back online.',
};

export function createChat(flow) {
  const audio = new AudioQueue(byId('voice'), { muted: prefs.get('muted', false) });
  const announcer = new Announcer(byId('announcer'));
  const view = new MessageList(byId('messages'), byId('scroll'), audio);
  const welcome = byId('welcome');
  const banner = byId('connection-banner');
  const voiceHint = byId('voice-hint');
  const menuButton = byId('menu-button');
  const menu = byId('menu');
  let session = null; // {researchId, conversationId, socket, turns}
  let bannerTimer = null;

  const composer = new Composer({
    onSend: (text, input) => ask(text, input),
    onDraft: (text) => { if (session) tab.set('draft', { researchId: session.researchId, text }); },
  });

  // ---- the daily check-in ----
  const checkin = new CheckinCard({ audio, announcer, hooks: {
    replyWanted: (answer) => {
      if (!session) return;
      session.turns.checkin(session.conversationId, answer.id, answer.message);
      updateWelcome();
    },
    sessionEnded: (result) => sessionEnded(result),
    closed: (hadFocus) => { if (hadFocus) composer.focus(); },
  } });

  // ---- voice ----
  const voiceToggle = byId('voice-toggle');
  const showVoice = () => {
    voiceToggle.replaceChildren(icon(audio.muted ? 'voice-off' : 'voice-on'),
      el('span', { class: 'label' }, audio.muted ? 'Voice off' : 'Voice on'));
    voiceToggle.title = audio.muted ? "PaCo's answers are not read aloud" : "PaCo reads its answers aloud";
  };
  voiceToggle.addEventListener('click', () => {
    audio.setMuted(!audio.muted);
    prefs.set('muted', audio.muted);
    if (audio.muted) voiceHint.hidden = true;
    announcer.say(audio.muted ? 'Voice is off.' : 'Voice is on.');
  });
  audio.addEventListener('mute', showVoice);
  showVoice();
  audio.addEventListener('blocked', () => { voiceHint.hidden = false; });
  const unlock = () => {
    if (!audio.blocked && audio.unlocked) return;
    audio.unlock();
    voiceHint.hidden = true;
  };
  // The first tap or key press anywhere is what browsers need before a page may play sound.
  document.addEventListener('pointerdown', unlock, true);
  document.addEventListener('keydown', unlock, true);
  voiceHint.addEventListener('click', unlock);

  // ---- menu ----
  const closeMenu = (refocus) => {
    if (menu.hidden) return;
    menu.hidden = true;
    menuButton.setAttribute('aria-expanded', 'false');
    if (refocus) menuButton.focus();
  };
  menuButton.addEventListener('click', () => {
    const open = menu.hidden;
    menu.hidden = !open;
    menuButton.setAttribute('aria-expanded', String(open));
    if (open) menu.querySelector('button').focus();
  });
  menu.addEventListener('keydown', (event) => { if (event.key === 'Escape') closeMenu(true); });
  menu.addEventListener('focusout', (event) => {
    if (event.relatedTarget && !menu.contains(event.relatedTarget) && event.relatedTarget !== menuButton) closeMenu(false);
  });
  document.addEventListener('click', (event) => {
    if (!menu.hidden && !menu.contains(event.target) && !menuButton.contains(event.target)) closeMenu(false);
  });
  byId('new-conversation').addEventListener('click', () => { closeMenu(false); newConversation(); });
  byId('checkin-open').addEventListener('click', () => { closeMenu(false); checkin.open(); });
  byId('sign-out').addEventListener('click', () => { closeMenu(false); signOut(); });

  // ---- starters ----
  byId('starters').replaceChildren(...STARTERS.map((question) =>
    el('li', {}, el('button', { type: 'button', class: 'btn starter', onclick: () => composer.send(question) }, question))));

  const updateWelcome = () => { welcome.hidden = !view.empty; };

  function ask(text, input) {
    if (!session) return;
    session.turns.ask(session.conversationId, text, input);
    updateWelcome();
  }

  function showStatus(state) {
    clearTimeout(bannerTimer);
    const message = BANNERS[state];
    if (message) {
      banner.replaceChildren(icon('offline'), message);
      banner.hidden = false;
    } else if (state === 'connecting') {
      // Only worth saying if it takes a moment.
      bannerTimer = setTimeout(() => { banner.replaceChildren('Connecting to PaCo…'); banner.hidden = false; }, 1500);
    } else {
      banner.hidden = true;
    }
    banner.dataset.state = state;
  }

  async function loadHistory() {
    const s = session;
    const result = await chatApi.history(s.researchId, s.conversationId);
    if (s !== session) return null;
    if (!result.ok) {
      if (isSessionError(result)) sessionEnded(result);
      else composer.say('Your earlier messages could not be loaded. They are safe; try again later.', { error: true });
      return null;
    }
    const messages = result.data.messages;
    view.renderHistory(messages, voiceFor, tab.get('speechOff') ? null : loadVoice);
    s.turns.reattach();
    updateWelcome();
    // An answer the server was still writing when the connection dropped: look again shortly.
    const last = messages[messages.length - 1];
    if (last && last.role === 'user' && s.historyRetries < 10) {
      s.historyRetries += 1;
      // Not while a new answer is streaming: redrawing would take its bubble off the screen.
      const again = () => { if (s === session) (s.turns.active.length ? setTimeout(again, 1000) : loadHistory()); };
      setTimeout(again, 1000);
    }
    return messages;
  }

  // The sound of an answer from history, fetched when Listen is pressed; a problem is said on it.
  async function loadVoice(messageId, key) {
    const result = await speechApi.answer(messageId);
    if (result.ok) {
      const urls = result.data.audio.map((item) => item.audio_url);
      audio.finish(key, urls);
      keepVoice(messageId, urls);
      return null;
    }
    if (isSessionError(result)) {
      sessionEnded(result);
      return null;
    }
    if (result.code === 'speech_off') {
      tab.set('speechOff', true);
      view.withoutVoice();
    }
    return result.status === 0 ? 'PaCo could not be reached to read this aloud. Try again in a moment.'
      : result.message;
  }

  function refused(turn, frame) {
    if (turn.checkin && !['invalid_token', 'disclaimer_required'].includes(frame.code)) {
      composer.say(frame.message || 'PaCo could not answer that check-in.', { error: true });
      return undefined;
    }
    if (frame.code === 'invalid_token') return sessionEnded({ status: 401 }, turn.text);
    if (frame.code === 'disclaimer_required') return sessionEnded({ status: 403, code: 'disclaimer_required' }, turn.text);
    composer.restore(turn.text);
    if (frame.code === 'forbidden') return forbidden();
    composer.say(frame.message || 'That message could not be sent. Please try again.', { error: true });
    updateWelcome();
    return undefined;
  }

  // "forbidden" is either this conversation (start another) or the research ID (stop).
  async function forbidden() {
    const check = await signIn.session();
    if (isSessionError(check)) return sessionEnded(check);
    newConversation();
    composer.say('Please send your question again: it will start a new conversation.', { error: true });
    return undefined;
  }

  async function enter(researchId) {
    leave();
    tab.set('researchId', researchId);
    const conversation = await currentConversation(researchId);
    if (conversation.error) return sessionEnded(conversation.error, null, researchId);
    const socket = new ChatSocket();
    const s = { researchId, conversationId: conversation.id, socket, historyRetries: 0 };
    s.turns = new Turns({ view, audio, announcer, socket, hooks: {
      refused, notice: (message) => composer.say(message, { error: true }), voiceKept: keepVoice,
    } });
    socket.beforeFlush = (uncertain, reconnected) => s.turns.settle(uncertain, reconnected, loadHistory);
    socket.addEventListener('status', (event) => showStatus(event.detail.state));
    // The sign-in ended (expired, signed out, or the study paused the ID): ask why, so that a
    // paused participant is told so and whom to contact rather than "your session has ended".
    socket.addEventListener('ended', async () => {
      if (s !== session) return;
      const why = await signIn.session();
      if (s === session) sessionEnded(why.ok || why.status === 0 ? { status: 401 } : why);
    });
    session = s;
    view.clear();
    welcome.hidden = true; // until history says whether this conversation is new
    const draft = tab.get('draft');
    composer.value = draft && draft.researchId === researchId ? draft.text : '';
    composer.say('');
    showScreen('chat', matchMedia('(pointer: coarse)').matches ? 'chat-title' : 'composer-input');
    await loadHistory();
    if (s !== session) return undefined;
    updateWelcome();
    socket.start();
    checkin.load(researchId);
    return undefined;
  }

  function leave() {
    if (!session) return [];
    const unsent = session.turns.unsaved().map((turn) => turn.text);
    session.socket.stop();
    session = null;
    checkin.hide();
    audio.forget();
    clearTimeout(bannerTimer);
    banner.hidden = true;
    voiceHint.hidden = true;
    return unsent;
  }

  // Back to sign-in; everything typed but not stored goes back into the box for later.
  function sessionEnded(result, alsoTyped = null, researchId = session?.researchId) {
    if (!researchId) return;
    const typed = [...leave(), alsoTyped, composer.value.trim()].filter(Boolean);
    const kept = [...new Set(typed)].join('\n');
    if (kept) tab.set('draft', { researchId, text: kept });
    if (result.status === 403 && result.code === 'disclaimer_required') {
      flow.toDisclaimer(researchId, NEW_VERSION);
    } else if (result.status === 403) {
      flow.toResearchId(result.message || 'This research ID is not active. Please contact your study team.');
    } else {
      flow.toResearchId(expiredMessage(Boolean(kept)), researchId);
    }
  }

  function newConversation() {
    if (!session) return;
    session.turns.detachAll();
    audio.forget();
    session.conversationId = startConversation(session.researchId);
    session.historyRetries = 0;
    view.clear();
    updateWelcome();
    announcer.say('New conversation started.');
    composer.focus();
  }

  async function signOut() {
    leave();
    await signIn.logout();
    for (const key of ['draft', 'conversation', 'voice', 'researchId', 'speechOff']) tab.remove(key);
    composer.value = '';
    flow.toResearchId('You are signed out. Thank you for chatting with PaCo.');
  }

  return { enter, sessionEnded };
}
