// The plain demo: the web build loaded with <script type="module">, rendered from the client's snapshots.
import init, { ConduitRealtimeClient } from '/pkg/web/conduit_realtime.js';
import { demoEnv, cutConnection, etaText, BADGE_TEXT, statusLine, mediaOf } from '/assets/demo-env.js';

const $ = (sel, root = document) => root.querySelector(sel);
const env = demoEnv();
$('#key').textContent = env.key;
$('#server').textContent = location.host;
$('#dialect').textContent = env.dialect;

await init();
const client = new ConduitRealtimeClient({ virtualKey: env.key, baseUrl: env.baseUrl });
const prompts = new Map(); // taskId -> the prompt typed (the client does not keep it)
const cards = new Map(); // taskId -> its <article>, updated in place so media do not reload

function connectAll() {
  for (const hub of ['image', 'video']) client.connect(hub).catch(() => { /* shown by the badge */ });
}

function render() {
  const snap = client.getSnapshot();
  const badge = $('#badge');
  badge.dataset.state = snap.state;
  badge.textContent = BADGE_TEXT[snap.state];
  $('#reconnect').hidden = snap.state !== 'disconnected';

  const list = $('#tasks');
  const tasks = [...snap.tasks].sort((a, b) => b.createdAt - a.createdAt);
  $('.empty', list)?.toggleAttribute('hidden', tasks.length > 0);
  $('#task-count').textContent = tasks.length ? `${tasks.length} total` : '';
  for (const task of tasks) {
    let card = cards.get(task.id);
    if (!card) {
      card = $('#task-template').content.firstElementChild.cloneNode(true);
      card.dataset.taskId = task.id;
      $('.cancel', card).addEventListener('click', () => client.cancelTask(task.id).catch(showError));
      cards.set(task.id, card);
    }
    if (list.children[tasks.indexOf(task) + 1] !== card) list.insertBefore(card, list.children[tasks.indexOf(task) + 1] ?? null);
    updateCard(card, task);
  }
}

function updateCard(card, task) {
  const done = task.status === 'completed' || task.status === 'failed' || task.status === 'cancelled';
  card.dataset.status = task.status;
  card.dataset.type = task.taskType ?? 'image';
  $('.kind', card).textContent = task.taskType === 'video' ? 'Video' : 'Image';
  $('.prompt', card).textContent = prompts.get(task.id) ?? task.id;
  $('.bar > span', card).style.width = `${task.progress}%`;
  $('.pct', card).textContent = `${Math.round(task.progress)}%`;
  $('.status', card).textContent = statusLine(task);
  $('.eta', card).textContent = done ? '' : etaText(task.estimatedSecondsRemaining);
  $('.error', card).textContent = task.status === 'failed' ? task.error ?? 'The task failed.' : '';
  $('.cancel', card).hidden = done;
  const media = $('.media', card);
  const { images, video, poster } = mediaOf(task);
  if (media.childElementCount === 0 && (images.length || video)) {
    if (video) {
      const v = Object.assign(document.createElement('video'), { src: video, controls: true, autoplay: true, muted: true, loop: true, playsInline: true });
      if (poster) v.poster = poster;
      media.append(v);
    } else {
      for (const src of images) media.append(Object.assign(document.createElement('img'), { src, alt: prompts.get(task.id) ?? 'Generated image' }));
    }
  }
}

function showError(e) {
  $('#form-error').textContent = e ? `${e.message ?? e}` : '';
}

$('#composer').addEventListener('submit', async (event) => {
  event.preventDefault();
  const kind = event.submitter?.value ?? 'image';
  const prompt = $('#prompt').value.trim() || $('#prompt').placeholder;
  const button = event.submitter;
  button.disabled = true;
  showError(null);
  try {
    const taskId = kind === 'video'
      ? await client.generateVideo({ model: 'conduit-video', prompt, duration: 4 })
      : await client.generateImage({ model: 'dall-e-3', prompt, size: '1024x1024' });
    prompts.set(taskId, prompt);
    render();
  } catch (e) {
    showError(e);
  } finally {
    button.disabled = false;
  }
});

$('#cut').addEventListener('click', () => cutConnection(env.key).catch(showError));
$('#reconnect').addEventListener('click', connectAll);

client.onChange(render);
render();
connectAll();
// For the end-to-end tests and the curious: the client, in the console.
globalThis.conduitDemo = { client, env };
