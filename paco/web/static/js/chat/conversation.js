// Which conversation the chat shows, and the audio addresses kept so answers can be replayed
// after a reload. None of this is secret; it lives in the tab's sessionStorage.

import { chatApi } from '../api.js';
import { tab } from '../store.js';

const VOICE_KEEP = 60;
const pad = (n) => String(n).padStart(2, '0');

// `${researchId}_${yyyymmdd_hhmmss}` plus a short random tail, so two tabs never collide.
export function newConversationId(researchId) {
  const d = new Date();
  const stamp = `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}_`
    + `${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
  const tail = Math.random().toString(36).slice(2, 6);
  return `${researchId.replace(/[^A-Za-z0-9_-]/g, '-')}_${stamp}_${tail}`;
}

export function startConversation(researchId) {
  const id = newConversationId(researchId);
  tab.set('conversation', { researchId, id });
  return id;
}

// The tab's conversation, else the newest one on the server (another tab, another day), else new.
// Resolves to {id} or {error: apiResult} when the session is no longer valid.
export async function currentConversation(researchId) {
  const kept = tab.get('conversation');
  if (kept && kept.researchId === researchId) return { id: kept.id };
  const result = await chatApi.conversations();
  if (!result.ok && result.status !== 0) return { error: result };
  const newest = result.ok ? result.data.conversations[0] : null;
  if (!newest) return { id: startConversation(researchId) };
  tab.set('conversation', { researchId, id: newest.conversation_id });
  return { id: newest.conversation_id };
}

export function voiceFor(messageId) {
  return tab.get('voice', {})[messageId] || null;
}

export function keepVoice(messageId, urls) {
  const kept = tab.get('voice', {});
  delete kept[messageId];
  kept[messageId] = urls;
  const ids = Object.keys(kept);
  for (const id of ids.slice(0, Math.max(0, ids.length - VOICE_KEEP))) delete kept[id];
  tab.set('voice', kept);
}
