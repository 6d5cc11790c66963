// The Conduit simulation with the official client: image and video flows in both dialects,
// ownership, auth, HTTP shapes, ephemeral keys, the public and tasks hubs, cancel, retry,
// hold/advance, the Conduit flood.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, connect, build, stopAll, newKey, api, dev, counters, waitFor, sleep, record, nextEvent } from './helpers.mjs';

let server;
let restricted;
const ALLOWED = 'condt_allowed_key_1';
before(async () => {
  [server, restricted] = await Promise.all([
    startServer(['--quiet']),
    startServer(['--quiet', '--keys', `${ALLOWED},condt_allowed_key_2`]),
  ]);
});
after(async () => {
  await stopAll();
  await Promise.all([server?.stop(), restricted?.stop()]);
});

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const DEPLOYED_IMAGE = ['ImageGenerationStarted', 'ImageGenerationProgress', 'ImageGenerationCompleted', 'ImageGenerationFailed', 'ImageGenerationCancelled'];
const DEPLOYED_VIDEO = ['VideoGenerationStarted', 'VideoGenerationProgress', 'VideoGenerationCompleted', 'VideoGenerationFailed', 'VideoGenerationCancelled'];
const DOCUMENTED = ['TaskProgress', 'TaskCompleted', 'TaskFailed', 'TaskCancelled', 'RequestProgress', 'RequestCompleted', 'RequestFailed', 'RequestCancelled'];

async function createImage(key, prompt, extra = {}, base = server.url) {
  const r = await api(server, 'POST', '/v1/images/generations/async', key, { model: 'dall-e-3', prompt, ...extra }, base);
  assert.equal(r.status, 202, r.text);
  return r.json;
}

async function createVideo(key, prompt, base = server.url) {
  const r = await api(server, 'POST', '/v1/videos/generations/async', key, { model: 'minimax-video', prompt, duration: 4 }, base);
  assert.equal(r.status, 202, r.text);
  return r.json;
}

test('image flow, deployed dialect: POST, SubscribeToTask, started..progress..completed, image fetchable', async () => {
  const key = newKey('img');
  const c = await connect(`${server.url}/hubs/image-generation`, { token: key });
  const rec = record(c, [...DEPLOYED_IMAGE, ...DOCUMENTED]);
  const created = await createImage(key, 'a red fox in the snow ms=900 steps=4', { n: 2, size: '512x512' });
  assert.deepEqual(Object.keys(created).sort(), ['check_status_url', 'created_at', 'estimated_completion_time', 'status', 'task_id']);
  assert.equal(created.status, 'queued');
  assert.equal(created.check_status_url, `/v1/images/generations/${created.task_id}/status`);
  assert.match(created.created_at, ISO);
  assert.match(created.estimated_completion_time, ISO);
  await c.invoke('SubscribeToTask', created.task_id);
  const [done] = await nextEvent(c, 'ImageGenerationCompleted', 5000);

  const [started] = rec.of('ImageGenerationStarted')[0];
  assert.equal(started.taskId, created.task_id);
  assert.equal(started.prompt, 'a red fox in the snow ms=900 steps=4');
  assert.equal(started.numberOfImages, 2);
  assert.equal(started.size, '512x512');
  assert.ok('style' in started);
  assert.match(started.startedAt, ISO);
  const progress = rec.of('ImageGenerationProgress').map(([p]) => p);
  assert.equal(progress.length, 4);
  for (const p of progress) {
    assert.deepEqual(Object.keys(p).sort(), ['imagesCompleted', 'message', 'progressPercentage', 'status', 'taskId', 'timestamp', 'totalImages']);
    assert.equal(p.totalImages, 2);
    assert.match(p.timestamp, ISO);
  }
  assert.deepEqual(progress.map((p) => p.progressPercentage), [20, 40, 60, 80]);
  assert.deepEqual(Object.keys(done).sort(), ['completedAt', 'cost', 'durationSeconds', 'imageUrls', 'taskId']);
  assert.equal(done.imageUrls.length, 2);
  assert.equal(typeof done.durationSeconds, 'number');
  assert.equal(typeof done.cost, 'number');
  assert.equal(rec.events.filter((e) => DOCUMENTED.includes(e.target)).length, 0, 'no documented events');

  const img = await fetch(done.imageUrls[1]);
  assert.equal(img.status, 200);
  assert.equal(img.headers.get('content-type'), 'image/svg+xml');
  const svg = await img.text();
  assert.match(svg, /^<svg/);
  assert.match(svg, /a red fox in the snow/);

  const status = await api(server, 'GET', `/v1/images/generations/${created.task_id}/status`, key);
  assert.equal(status.status, 200);
  assert.deepEqual(Object.keys(status.json).sort(), ['created_at', 'error', 'message', 'progress', 'result', 'status', 'task_id', 'updated_at']);
  assert.equal(status.json.status, 'completed');
  assert.equal(status.json.progress, 100);
  assert.equal(status.json.error, null);
  assert.deepEqual(status.json.result.images.map((i) => i.url), done.imageUrls);
  assert.equal(status.json.result.images[0].b64Json, null);
  assert.ok(status.json.result.images[0].revisedPrompt);
  for (const k of ['duration', 'cost', 'provider', 'model']) assert.ok(k in status.json.result, k);
});

test('image flow, documented dialect (baseUrl /dialect/documented): positional Task* events', async () => {
  const key = newKey('doc');
  const base = `${server.url}/dialect/documented`;
  const c = await connect(`${base}/hubs/image-generation`, { token: key, transport: 'LongPolling' });
  const rec = record(c, [...DEPLOYED_IMAGE, ...DOCUMENTED]);
  const created = await createImage(key, 'a lighthouse ms=600 steps=3', {}, base);
  await c.invoke('SubscribeToTask', created.task_id);
  const [id, result] = await nextEvent(c, 'TaskCompleted', 5000);
  assert.equal(id, created.task_id);
  assert.match(result.image_url, /\/generated\/.+\/0\.svg$/);
  assert.ok(result.metadata);
  const progress = rec.of('TaskProgress');
  assert.ok(progress.length >= 2);
  for (const [pid, p] of progress) {
    assert.equal(pid, created.task_id);
    assert.equal(typeof p, 'number');
  }
  assert.equal(rec.events.filter((e) => DEPLOYED_IMAGE.includes(e.target)).length, 0, 'no deployed events');
  assert.equal((await fetch(result.image_url)).status, 200);

  // failure, documented: TaskFailed(taskId, error)
  const failing = await createImage(key, 'please fail ms=300', {}, base);
  await c.invoke('SubscribeToTask', failing.task_id);
  const [fid, error] = await nextEvent(c, 'TaskFailed', 5000);
  assert.equal(fid, failing.task_id);
  assert.match(error, /fail/);
});

test('dialect by query parameter, and failures/cancel in the deployed shapes', async () => {
  const key = newKey('q');
  const c = await connect(`${server.url}/hubs/image-generation?dialect=deployed`, { token: key, msgpack: true });
  const failing = await createImage(key, 'fail-retryable ms=300');
  await c.invoke('SubscribeToTask', failing.task_id);
  const [failed] = await nextEvent(c, 'ImageGenerationFailed', 5000);
  assert.deepEqual(Object.keys(failed).sort(), ['error', 'failedAt', 'isRetryable', 'taskId']);
  assert.equal(failed.isRetryable, true);
  const st = await api(server, 'GET', `/v1/images/generations/${failing.task_id}/status`, key);
  assert.equal(st.json.status, 'failed');
  assert.match(st.json.error, /fail/);
  assert.equal(st.json.result, null);

  const slow = await createImage(key, 'a slow one ms=5000');
  await c.invoke('SubscribeToTask', slow.task_id);
  const cancelled = nextEvent(c, 'ImageGenerationCancelled', 5000);
  assert.equal((await api(server, 'DELETE', `/v1/images/generations/${slow.task_id}`, key)).status, 204);
  const [ev] = await cancelled;
  assert.deepEqual(Object.keys(ev).sort(), ['cancelledAt', 'reason', 'taskId']);
  assert.equal((await api(server, 'GET', `/v1/images/generations/${slow.task_id}/status`, key)).json.status, 'cancelled');
  assert.equal((await api(server, 'DELETE', `/v1/images/generations/${slow.task_id}`, key)).status, 409);

  // documented dialect chosen by query on HTTP: video POST answers request_id
  const v = await api(server, 'POST', '/v1/videos/generations/async?dialect=documented', key, { model: 'm', prompt: 'x ms=100' });
  assert.ok(v.json.request_id);
});

test('video flow, deployed dialect: SubscribeToRequest does not exist, both progress and completed shapes', async () => {
  const key = newKey('vid');
  const c = await connect(`${server.url}/hubs/video-generation`, { token: key });
  const rec = record(c, [...DEPLOYED_VIDEO, ...DOCUMENTED]);
  const a = await createVideo(key, 'a whale breaching ms=900 steps=4');
  assert.deepEqual(Object.keys(a).sort(), ['checkStatusUrl', 'createdAt', 'estimatedCompletionTime', 'status', 'taskId']);
  assert.equal(a.status, 'pending');
  assert.equal(a.checkStatusUrl, `/v1/videos/generations/tasks/${a.taskId}`);
  const b = await createVideo(key, 'a second whale ms=900 steps=4');
  await assert.rejects(
    c.invoke('SubscribeToRequest', a.taskId),
    /Failed to invoke 'SubscribeToRequest' due to an error on the server. HubException: Method does not exist./,
  );
  await c.invoke('SubscribeToTask', a.taskId);
  await c.invoke('SubscribeToTask', b.taskId);
  await waitFor(() => rec.of('VideoGenerationCompleted').length === 2, 'two completions', 5000);

  const [started] = rec.of('VideoGenerationStarted')[0];
  assert.deepEqual(Object.keys(started).sort(), ['estimatedSeconds', 'provider', 'startedAt', 'taskId']);
  const progress = rec.of('VideoGenerationProgress').map(([p]) => p).filter((p) => p.taskId === a.taskId);
  assert.equal(progress.length, 4);
  const shapeA = progress.filter((p) => 'progressPercentage' in p);
  const shapeB = progress.filter((p) => 'framesCompleted' in p);
  assert.equal(shapeA.length, 2);
  assert.equal(shapeB.length, 2);
  assert.deepEqual(Object.keys(shapeA[0]).sort(), ['message', 'progressPercentage', 'status', 'taskId', 'timestamp']);
  assert.deepEqual(Object.keys(shapeB[0]).sort(), ['framesCompleted', 'message', 'progress', 'status', 'taskId', 'timestamp', 'totalFrames']);

  const completions = rec.of('VideoGenerationCompleted').map(([p]) => p);
  const rich = completions.find((p) => 'previewUrl' in p);
  const simple = completions.find((p) => !('previewUrl' in p));
  assert.ok(rich && simple, 'one rich and one simple completion');
  assert.deepEqual(Object.keys(rich).sort(), ['completedAt', 'cost', 'duration', 'fileSize', 'generationDuration', 'model', 'previewUrl', 'provider', 'resolution', 'status', 'taskId', 'videoUrl']);
  assert.equal(rich.status, 'completed');
  assert.deepEqual(Object.keys(simple).sort(), ['completedAt', 'cost', 'durationSeconds', 'taskId', 'videoUrl']);
  assert.equal(rec.events.filter((e) => DOCUMENTED.includes(e.target)).length, 0);

  const video = await fetch(simple.videoUrl);
  assert.equal(video.status, 200);
  assert.equal(video.headers.get('content-type'), 'video/webm');
  const bytes = new Uint8Array(await video.arrayBuffer());
  assert.deepEqual([...bytes.slice(0, 4)], [0x1a, 0x45, 0xdf, 0xa3], 'a real WebM (EBML header)');
  const ranged = await fetch(simple.videoUrl, { headers: { Range: 'bytes=0-9' } });
  assert.equal(ranged.status, 206);
  assert.equal((await ranged.arrayBuffer()).byteLength, 10);
  const poster = await fetch(rich.previewUrl);
  assert.equal(poster.headers.get('content-type'), 'image/svg+xml');

  const st = await api(server, 'GET', `/v1/videos/generations/tasks/${a.taskId}`, key);
  assert.equal(st.status, 200);
  for (const k of ['taskId', 'status', 'progress', 'createdAt', 'updatedAt', 'completedAt', 'error', 'result', 'videoResponse']) assert.ok(k in st.json, k);
  assert.equal(st.json.status, 'completed');
  assert.equal(typeof st.json.result, 'string');
  assert.match(st.json.result, /\.webm$/);
});

test('video flow, documented dialect: request_id, SubscribeToRequest, Request* events, no SubscribeToTask', async () => {
  const key = newKey('vdoc');
  const base = `${server.url}/dialect/documented`;
  const c = await connect(`${base}/hubs/video-generation`, { token: key, transport: 'ServerSentEvents' });
  const rec = record(c, [...DEPLOYED_VIDEO, ...DOCUMENTED]);
  const created = await createVideo(key, 'a documented video ms=600 steps=3', base);
  assert.ok(created.request_id);
  assert.equal(created.taskId, undefined);
  assert.equal(created.status, 'pending');
  await assert.rejects(c.invoke('SubscribeToTask', created.request_id), /Method does not exist/);
  await c.invoke('SubscribeToRequest', created.request_id);
  const [id, result] = await nextEvent(c, 'RequestCompleted', 5000);
  assert.equal(id, created.request_id);
  assert.match(result.video_url, /\.webm$/);
  assert.ok(rec.of('RequestProgress').length >= 2);
  assert.equal(rec.events.filter((e) => DEPLOYED_VIDEO.includes(e.target)).length, 0);
  await c.invoke('UnsubscribeFromRequest', created.request_id);
});

test('video retry after a retryable failure', async () => {
  const key = newKey('retry');
  const c = await connect(`${server.url}/hubs/video-generation`, { token: key });
  const v = await createVideo(key, 'fail-retryable ms=300');
  await c.invoke('SubscribeToTask', v.taskId);
  const [failed] = await nextEvent(c, 'VideoGenerationFailed', 5000);
  assert.equal(failed.isRetryable, true);
  const completed = nextEvent(c, 'VideoGenerationCompleted', 5000);
  const r = await api(server, 'POST', `/v1/videos/generations/tasks/${v.taskId}/retry`, key);
  assert.equal(r.status, 200);
  assert.equal(r.json.status, 'pending');
  await completed;
  const again = await api(server, 'POST', `/v1/videos/generations/tasks/${v.taskId}/retry`, key);
  assert.equal(again.status, 400);
  assert.ok(again.json.title && again.json.detail);
});

test('another key\'s task: hub "Unauthorized access to task", HTTP 404 (OpenAI error / ProblemDetails)', async () => {
  const owner = newKey('own');
  const other = newKey('oth');
  const img = await createImage(owner, 'mine ms=2000');
  const vid = await createVideo(owner, 'mine too ms=2000');
  const c = await connect(`${server.url}/hubs/image-generation`, { token: other });
  await assert.rejects(c.invoke('SubscribeToTask', img.task_id), /Unauthorized access to task/);
  await assert.rejects(c.invoke('SubscribeToTask', 'no-such-task'), /Unauthorized access to task/);
  const v = await connect(`${server.url}/hubs/video-generation`, { token: other });
  await assert.rejects(v.invoke('SubscribeToTask', vid.taskId), /Unauthorized access to task/);

  const s1 = await api(server, 'GET', `/v1/images/generations/${img.task_id}/status`, other);
  assert.equal(s1.status, 404);
  assert.equal(typeof s1.json.error.message, 'string');
  const s2 = await api(server, 'GET', `/v1/videos/generations/tasks/${vid.taskId}`, other);
  assert.equal(s2.status, 404);
  assert.match(s2.headers.get('content-type'), /problem\+json/);
  assert.equal(s2.json.status, 404);
  assert.ok(s2.json.title && s2.json.detail);
  assert.equal((await api(server, 'DELETE', `/v1/images/generations/${img.task_id}`, other)).status, 404);
  assert.equal((await api(server, 'GET', `/v1/tasks/${img.task_id}`, other)).status, 404);
  assert.equal((await api(server, 'GET', `/v1/tasks/${img.task_id}`, owner)).status, 200);
});

test('HTTP auth and validation: 401 / 400 / 404 shapes, X-API-Key, restricted --keys', async () => {
  const none = await api(server, 'POST', '/v1/images/generations/async', undefined, { prompt: 'x' });
  assert.equal(none.status, 401);
  assert.equal(none.json.error.type, 'authentication_error');
  assert.equal(none.json.error.code, 'invalid_api_key');
  const malformed = await api(server, 'POST', '/v1/images/generations/async', 'condt_x', { prompt: 'x' });
  assert.equal(malformed.status, 401);
  const key = newKey('val');
  const bad = await api(server, 'POST', '/v1/images/generations/async', key, '{not json');
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.type, 'invalid_request_error');
  const noPrompt = await api(server, 'POST', '/v1/images/generations/async', key, { model: 'm' });
  assert.equal(noPrompt.status, 400);
  assert.equal(noPrompt.json.error.param, 'prompt');
  const badN = await api(server, 'POST', '/v1/images/generations/async', key, { prompt: 'p', n: 99 });
  assert.equal(badN.status, 400);
  const viaHeader = await fetch(`${server.url}/v1/images/generations/async`, {
    method: 'POST',
    headers: { 'X-API-Key': key, 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt: 'via x-api-key ms=100' }),
  });
  assert.equal(viaHeader.status, 202);
  const unknown = await api(server, 'GET', '/v1/nothing/here', key);
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.error.code, 'not_found');
  assert.equal((await api(server, 'GET', '/v1/images/generations/nope/status', key)).status, 404);

  // --keys restricts to a list
  const ok = await api(restricted, 'POST', '/v1/images/generations/async', ALLOWED, { prompt: 'ok ms=100' }, restricted.url);
  assert.equal(ok.status, 202);
  const denied = await api(restricted, 'POST', '/v1/images/generations/async', newKey('no'), { prompt: 'x' }, restricted.url);
  assert.equal(denied.status, 401);
  await assert.rejects(build(`${restricted.url}/hubs/image-generation`, { token: newKey('no') }).start(), /401/);
  const c = await connect(`${restricted.url}/hubs/image-generation`, { token: ALLOWED });
  await c.stop();
});

test('ephemeral keys: single use, usable as access token and as HTTP bearer', async () => {
  const key = newKey('ek');
  const r = await api(server, 'POST', '/v1/auth/ephemeral-key', key);
  assert.equal(r.status, 200);
  assert.deepEqual(Object.keys(r.json).sort(), ['ephemeralKey', 'expiresAt', 'expiresInSeconds']);
  assert.match(r.json.ephemeralKey, /^ek_/);
  assert.equal(r.json.expiresInSeconds, 300);
  const ek = r.json.ephemeralKey;
  const c = await connect(`${server.url}/hubs/image-generation`, { token: ek });
  const created = await createImage(key, 'ek flow ms=400');
  await c.invoke('SubscribeToTask', created.task_id); // bound to the key that made the ek
  await nextEvent(c, 'ImageGenerationCompleted', 5000);
  await assert.rejects(build(`${server.url}/hubs/image-generation`, { token: ek }).start(), /401/);
  const ek2 = (await api(server, 'POST', '/v1/auth/ephemeral-key', key)).json.ephemeralKey;
  assert.equal((await api(server, 'GET', `/v1/images/generations/${created.task_id}/status`, ek2)).status, 200);
  assert.equal((await api(server, 'GET', `/v1/images/generations/${created.task_id}/status`, ek2)).status, 401);
  assert.equal((await api(server, 'POST', '/v1/auth/ephemeral-key')).status, 401);
});

test('public video hub: no auth on connect, SubscribeToTask(taskId, ephemeralKey) -> taskSubscribed', async () => {
  const key = newKey('pub');
  const v = await createVideo(key, 'public video ms=700 steps=2');
  const ek = (await api(server, 'POST', '/v1/auth/ephemeral-key', key)).json.ephemeralKey;
  const c = await connect(`${server.url}/hubs/public/video-generation`);
  const subscribed = nextEvent(c, 'taskSubscribed');
  const completed = nextEvent(c, 'VideoGenerationCompleted', 5000);
  await c.invoke('SubscribeToTask', v.taskId, ek);
  const [info] = await subscribed;
  assert.equal(info.taskId, v.taskId);
  assert.equal(typeof info.message, 'string');
  assert.equal((await completed)[0].taskId, v.taskId);
  await assert.rejects(c.invoke('SubscribeToTask', v.taskId, ek), /already been used/);
  await assert.rejects(c.invoke('SubscribeToTask', v.taskId, 'ek_bogus'), /Invalid/);
});

test('tasks hub: SubscribeToTaskType and SubscribeToTask with positional Task* events', async () => {
  const key = newKey('tasks');
  const c = await connect(`${server.url}/hubs/tasks`, { token: key });
  const rec = record(c, ['TaskStarted', 'TaskProgress', 'TaskCompleted', 'TaskFailed', 'TaskCancelled']);
  await c.invoke('SubscribeToTaskType', 'image');
  const img = await createImage(key, 'typed ms=500 steps=2');
  const [doneId, result] = await nextEvent(c, 'TaskCompleted', 5000);
  assert.equal(doneId, img.task_id);
  assert.equal(result.imageUrls.length, 1);
  const [sid, type, meta] = rec.of('TaskStarted')[0];
  assert.equal(sid, img.task_id);
  assert.equal(type, 'image_generation');
  assert.ok(meta.prompt);
  const [pid, pct, msg] = rec.of('TaskProgress')[0];
  assert.equal(pid, img.task_id);
  assert.equal(typeof pct, 'number');
  assert.equal(typeof msg, 'string');
  await c.invoke('UnsubscribeFromTaskType', 'image');
  const vid = await createVideo(key, 'fail ms=300');
  await c.invoke('SubscribeToTask', vid.taskId);
  const [fid, err, retryable] = await nextEvent(c, 'TaskFailed', 5000);
  assert.equal(fid, vid.taskId);
  assert.equal(typeof err, 'string');
  assert.equal(retryable, false);
});

test('generic task API, hold and advance, counters of subscriptions', async () => {
  const key = newKey('gen');
  const c = await connect(`${server.url}/hubs/image-generation`, { token: key });
  await dev(server, 'POST', '/_dev/hold', { on: true });
  try {
    const t = await createImage(key, 'held');
    await c.invoke('SubscribeToTask', t.task_id);
    await sleep(400);
    const held = await api(server, 'GET', `/v1/tasks/${t.task_id}`, key);
    assert.equal(held.json.status, 'queued');
    assert.equal(held.json.taskType, 'image_generation');
    const done = nextEvent(c, 'ImageGenerationCompleted');
    assert.equal((await dev(server, 'POST', `/_dev/tasks/${t.task_id}/advance`, { to: 'completed' })).ok, true);
    await done;
    assert.equal((await api(server, 'GET', `/v1/tasks/${t.task_id}`, key)).json.status, 'completed');
    const t2 = await createImage(key, 'held too');
    await c.invoke('SubscribeToTask', t2.task_id);
    const cancelled = nextEvent(c, 'ImageGenerationCancelled');
    const r = await api(server, 'POST', `/v1/tasks/${t2.task_id}/cancel`, key);
    assert.equal(r.status, 200);
    assert.equal(r.json.status, 'cancelled');
    await cancelled;
    assert.equal((await api(server, 'POST', `/v1/tasks/${t2.task_id}/cancel`, key)).status, 409);
    const k = await counters(server, key);
    assert.equal(k.subscriptions[t.task_id], 1);
    assert.ok(k.httpRequests['POST /v1/images/generations/async'] >= 2);
  } finally {
    await dev(server, 'POST', '/_dev/hold', { on: false });
  }
});

test('after a reconnect the client must re-subscribe (new connection, no groups)', async () => {
  const key = newKey('resub');
  const c = await connect(`${server.url}/hubs/image-generation`, { token: key, reconnect: [0, 100] });
  const t = await createImage(key, 'resubscribe ms=2500 steps=10');
  await c.invoke('SubscribeToTask', t.task_id);
  await nextEvent(c, 'ImageGenerationProgress', 3000);
  const reconnected = new Promise((r) => c.onreconnected(r));
  await dev(server, 'POST', '/_dev/drop', { key });
  await reconnected;
  let after = 0;
  c.on('ImageGenerationProgress', () => after++);
  await sleep(500);
  assert.equal(after, 0, 'no events without re-subscribing');
  await c.invoke('SubscribeToTask', t.task_id);
  await nextEvent(c, 'ImageGenerationProgress', 3000);
});

test('FloodConduit: deployed-shape progress events with increasing progress', async () => {
  const key = newKey('fc');
  const c = await connect(`${server.url}/hubs/image-generation`, { token: key, msgpack: true });
  const seen = [];
  c.on('ImageGenerationProgress', (p) => seen.push(p.progressPercentage));
  assert.equal(await c.invoke('FloodConduit', 5000, 25, 'task-x'), 5000);
  assert.equal(seen.length, 5000);
  assert.ok(seen.every((p, i) => i === 0 || p >= seen[i - 1]));
  assert.equal(seen.at(-1), 100);
});

test('/_dev/flood: deployed-shape progress round-robin over many tasks, then a completion each', async () => {
  const key = newKey('df');
  for (const msgpack of [false, true]) {
    const c = await connect(`${server.url}/hubs/image-generation`, { token: key, msgpack });
    const progress = [];
    const completed = [];
    c.on('ImageGenerationProgress', (p) => progress.push(p));
    c.on('ImageGenerationCompleted', (p) => completed.push(p));
    const ids = ['task-aaaa', 'task-bbbb', 'task-cccc'];
    const r = await dev(server, 'POST', '/_dev/flood', { key, hub: 'image-generation', count: 9, perFrame: 4, complete: 1 }, JSON.stringify(ids));
    assert.deepEqual(r, { ok: true, sent: 1 });
    await waitFor(() => completed.length === 3, 'three completions');
    assert.deepEqual(progress.map((p) => p.taskId), [...ids, ...ids, ...ids]);
    assert.deepEqual(progress.map((p) => p.progressPercentage), [33, 33, 33, 66, 66, 66, 100, 100, 100]);
    assert.ok(progress.every((p) => p.status === 'processing' && ISO.test(p.timestamp)));
    assert.deepEqual(completed.map((p) => p.taskId), ids);
    assert.ok(completed.every((p) => p.imageUrls[0].endsWith(`${p.taskId}.png`) && ISO.test(p.completedAt)));
    await c.stop();
  }
  const fixed = await connect(`${server.url}/hubs/image-generation`, { token: key });
  const seen = [];
  fixed.on('ImageGenerationProgress', (p) => seen.push([p.taskId, p.progressPercentage]));
  await dev(server, 'POST', '/_dev/flood', { key, hub: 'image-generation', count: 2, pct: 50, task: 'one' });
  await waitFor(() => seen.length === 2, 'two events');
  assert.deepEqual(seen, [['one', 50], ['one', 50]]);
});
