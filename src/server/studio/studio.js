// Tessera Studio: a page over the same /v1/videos API the SDK uses. No build step, no framework.
const $ = (sel) => document.querySelector(sel);
const state = { key: localStorage.getItem('tessera-api-key') ?? '', cards: new Map(), jobs: new Map() };

async function api(path, init = {}) {
  const headers = { ...(init.headers ?? {}) };
  if (state.key) headers.authorization = `Bearer ${state.key}`;
  const res = await fetch(`/v1${path}`, { ...init, headers });
  if (res.status === 401) {
    $('#key-box').hidden = false;
    throw new Error('This server needs an API key: enter it above.');
  }
  if (!res.ok) {
    const body = await res.json().catch(() => null);
    throw new Error(body?.error?.message ?? `${res.status} ${res.statusText}`);
  }
  return res;
}
const json = async (path, init) => (await api(path, init)).json();

function say(text, isError = false) {
  const m = $('#message');
  m.textContent = text;
  m.className = isError ? 'error' : '';
}

async function loadConfig() {
  const cfg = await json('/studio/config');
  $('#model').textContent = `model ${cfg.model} · up to ${(cfg.maxFrames / cfg.defaultFps).toFixed(1)} s at ${cfg.defaultFps} fps`;
  const native = cfg.sizes.map((s) => `${s.width}x${s.height}`);
  $('#size').replaceChildren(...native.map((s) => new Option(s, s)));
  $('#seconds').max = String(cfg.maxFrames / cfg.defaultFps);
  $('#prompt').maxLength = cfg.max_prompt_chars;
}

async function create(event) {
  event.preventDefault();
  const form = new FormData();
  form.set('prompt', $('#prompt').value);
  form.set('size', $('#size').value);
  for (const name of ['seconds', 'seed', 'steps', 'guidance']) {
    const v = $(`#${name}`).value.trim();
    if (v !== '') form.set(name, v);
  }
  const image = $('#image').files[0];
  if (image) form.set('input_reference', image);
  $('#generate').disabled = true;
  try {
    const video = await json('/videos', { method: 'POST', body: form });
    say(`Queued ${video.id}`);
    await refresh();
  } catch (e) {
    say(e.message, true);
  } finally {
    $('#generate').disabled = false;
  }
}

/** Video bytes through fetch (so the API key header goes along), shown from an object URL. */
async function contentUrl(id, variant = 'video') {
  const blob = await (await api(`/videos/${id}/content?variant=${variant}`)).blob();
  return URL.createObjectURL(blob);
}

function button(label, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.addEventListener('click', async () => {
    b.disabled = true;
    try { await onClick(); } catch (e) { say(e.message, true); } finally { b.disabled = false; }
  });
  return b;
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

async function followUp(kind, video) {
  const text = window.prompt(kind === 'remix' ? 'New prompt for the remix' : 'What happens next?', video.prompt ?? '');
  if (!text) return;
  if (kind === 'remix') {
    await json(`/videos/${video.id}/remix`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: text }) });
  } else {
    const form = new FormData();
    form.set('prompt', text);
    form.set('video[id]', video.id);
    form.set('seconds', String(Math.min(2, Number($('#seconds').max) || 2)));
    await json('/videos/extensions', { method: 'POST', body: form });
  }
  await refresh();
}

async function remove(id) {
  await json(`/videos/${id}`, { method: 'DELETE' });
  state.cards.get(id)?.remove();
  state.cards.delete(id);
  await refresh();
}

function galleryCard(video) {
  const card = el('article', `card ${video.status}`);
  card.dataset.id = video.id;
  const [w, h] = video.size.split('x').map(Number);
  const body = el('div', 'body');
  body.append(el('p', 'prompt', video.prompt ?? ''), el('span', 'meta', `${video.size} · ${video.seconds} s · ${video.id.slice(0, 14)}…`));
  if (video.status === 'failed') {
    body.append(el('span', 'meta', `failed: ${video.error?.message ?? 'unknown error'}`));
    body.append(el('div', 'buttons'));
    body.lastChild.append(button('Delete', () => remove(video.id)));
    card.append(body);
    return card;
  }
  const player = document.createElement('video');
  player.controls = true;
  player.loop = true;
  player.muted = true;
  player.playsInline = true;
  player.style.setProperty('--aspect', `${w} / ${h}`);
  contentUrl(video.id).then((url) => { player.src = url; player.dataset.ready = '1'; }, (e) => say(e.message, true));
  const buttons = el('div', 'buttons');
  buttons.append(
    button('Download', async () => {
      const a = document.createElement('a');
      a.href = player.src || (await contentUrl(video.id));
      a.download = `${video.id}.mp4`;
      a.click();
    }),
    button('Remix', () => followUp('remix', video)),
    button('Extend', () => followUp('extend', video)),
    button('Delete', () => remove(video.id)),
  );
  body.append(buttons);
  card.append(player, body);
  return card;
}

function queueItem(video) {
  const li = el('li', 'job');
  li.dataset.id = video.id;
  li.append(el('span', 'prompt', video.prompt ?? ''), el('span', 'status muted'), document.createElement('progress'));
  li.querySelector('progress').max = 100;
  li.append(button('Cancel', () => remove(video.id)));
  return li;
}

async function refresh() {
  const page = await json('/videos?limit=100&order=desc');
  const open = page.data.filter((v) => v.status === 'queued' || v.status === 'in_progress');
  const queue = $('#queue');
  const items = open.map((v) => {
    const li = state.jobs.get(v.id) ?? queueItem(v);
    state.jobs.set(v.id, li);
    li.querySelector('progress').value = v.progress;
    li.querySelector('.status').textContent = v.status === 'queued' ? 'queued' : `${v.progress}%`;
    return li;
  });
  for (const id of state.jobs.keys()) if (!open.some((v) => v.id === id)) state.jobs.delete(id);
  queue.replaceChildren(...(items.length ? items : [el('li', 'muted empty', 'Nothing rendering.')]));

  const gallery = $('#gallery');
  const done = page.data.filter((v) => v.status === 'completed' || v.status === 'failed');
  for (const v of done) if (!state.cards.has(v.id)) state.cards.set(v.id, galleryCard(v));
  gallery.replaceChildren(...done.map((v) => state.cards.get(v.id)));
}

async function main() {
  $('#api-key').value = state.key;
  $('#api-key').addEventListener('change', async (e) => {
    state.key = e.target.value.trim();
    localStorage.setItem('tessera-api-key', state.key);
    await start();
  });
  $('#create').addEventListener('submit', create);
  await start();
}

let timer = null;
async function start() {
  try {
    await loadConfig();
    await refresh();
    say('');
  } catch (e) {
    say(e.message, true);
    return;
  }
  clearInterval(timer);
  timer = setInterval(() => refresh().catch((e) => say(e.message, true)), 1000);
}

main();
