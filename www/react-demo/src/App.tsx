// The React demo: everything comes from useConduitRealtime; the component keeps only the prompts it typed.
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { useConduitRealtime } from 'conduit-realtime/react';
import type { TaskState, TaskType } from 'conduit-realtime';
import { demoEnv, cutConnection, etaText, BADGE_TEXT, statusLine, mediaOf, PROMPT_PLACEHOLDER } from '../../assets/demo-env.js';

const HUBS: readonly TaskType[] = ['image', 'video'];

export function App() {
  const [env] = useState(demoEnv);
  const [prompt, setPrompt] = useState('');
  const [prompts, setPrompts] = useState<ReadonlyMap<string, string>>(new Map());
  const [busy, setBusy] = useState<TaskType | null>(null);
  const [formError, setFormError] = useState('');

  const { state, tasks, error, client, connect, generateImage, generateVideo, cancelTask } = useConduitRealtime({
    virtualKey: env.key,
    baseUrl: env.baseUrl,
    autoConnect: true,
    hubType: HUBS,
    // A new function every render: the hook reads it through a ref and does not reconnect.
    onFailed: ({ taskId, error }) => console.info(`task ${taskId} failed: ${error}`),
  });

  useEffect(() => {
    (globalThis as { conduitDemo?: unknown }).conduitDemo = { client, env };
  }, [client, env]);

  const list = useMemo(() => [...tasks.values()].sort((a, b) => b.createdAt - a.createdAt), [tasks]);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const submitter = (event.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null;
    const kind: TaskType = submitter?.value === 'video' ? 'video' : 'image';
    const text = prompt.trim() || PROMPT_PLACEHOLDER;
    setBusy(kind);
    setFormError('');
    try {
      const taskId =
        kind === 'video'
          ? await generateVideo({ model: 'conduit-video', prompt: text, duration: 4 })
          : await generateImage({ model: 'dall-e-3', prompt: text, size: '1024x1024' });
      setPrompts((m) => new Map(m).set(taskId, text));
    } catch (e) {
      setFormError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(null);
    }
  }

  return (
    <div className="wrap">
      <header className="top">
        <div className="brand">
          <div className="logo">C</div>
          <div>
            <h1>Conduit Realtime</h1>
            <small>React · useConduitRealtime</small>
          </div>
        </div>
        <nav className="switch">
          <a href="/">Plain JS</a>
          <a href="./" aria-current="page">React</a>
        </nav>
        <span id="badge" className="badge" data-state={state} role="status">
          {BADGE_TEXT[state]}
        </span>
        {state === 'disconnected' && (
          <button id="reconnect" className="secondary" onClick={() => HUBS.forEach((h) => connect(h).catch(() => undefined))}>
            Reconnect
          </button>
        )}
        <button
          id="cut"
          className="danger"
          title="Ask the dev server to drop this page's sockets"
          onClick={() => cutConnection(env.key).catch((e: Error) => setFormError(e.message))}
        >
          Cut connection
        </button>
      </header>

      <main>
        <form id="composer" className="composer" onSubmit={submit}>
          <label htmlFor="prompt">What should Conduit make?</label>
          <textarea id="prompt" value={prompt} onChange={(e) => setPrompt(e.target.value)} placeholder={PROMPT_PLACEHOLDER} />
          <div className="row">
            <button id="gen-image" className="primary" type="submit" value="image" disabled={busy === 'image'}>
              Generate image
            </button>
            <button id="gen-video" className="secondary" type="submit" value="video" disabled={busy === 'video'}>
              Generate video
            </button>
            <span className="spacer" />
            <span className="hint">
              Try <code>ms=8000 steps=8</code> for a slow task, or a prompt with <code>fail</code>.
            </span>
          </div>
          <div id="form-error" className="error-banner" role="alert">
            {formError || error?.message || ''}
          </div>
        </form>

        <div className="section-title">
          <h2>Tasks</h2>
          <span id="task-count">{list.length ? `${list.length} total` : ''}</span>
        </div>
        <section id="tasks" className="tasks" aria-live="polite">
          {list.length === 0 && <div className="empty">Nothing yet: write a prompt and generate an image or a video.</div>}
          {list.map((task) => (
            <TaskCard key={task.id} task={task} prompt={prompts.get(task.id)} onCancel={() => cancelTask(task.id).catch(() => undefined)} />
          ))}
        </section>
      </main>

      <footer>
        Key <code id="key">{env.key}</code> · server <code id="server">{location.host}</code> · dialect{' '}
        <code id="dialect">{env.dialect}</code>
      </footer>
    </div>
  );
}

function TaskCard({ task, prompt, onCancel }: { task: TaskState; prompt?: string; onCancel: () => void }) {
  const done = task.status === 'completed' || task.status === 'failed' || task.status === 'cancelled';
  const { images, video, poster } = mediaOf(task);
  return (
    <article className="task" data-task-id={task.id} data-status={task.status} data-type={task.taskType ?? 'image'}>
      <div className="task-head">
        <span className="kind">{task.taskType === 'video' ? 'Video' : 'Image'}</span>
        <span className="spacer" />
        {!done && (
          <button className="ghost cancel" type="button" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
      <p className="prompt">{prompt ?? task.id}</p>
      <div className="progress">
        <div className="bar">
          <span style={{ width: `${task.progress}%` }} />
        </div>
        <span className="pct">{Math.round(task.progress)}%</span>
      </div>
      <div className="meta">
        <span className="status">{statusLine(task)}</span>
        <span className="eta">{done ? '' : etaText(task.estimatedSecondsRemaining)}</span>
      </div>
      <p className="error">{task.status === 'failed' ? (task.error ?? 'The task failed.') : ''}</p>
      <div className="media">
        {video ? (
          <video src={video} poster={poster ?? undefined} controls autoPlay muted loop playsInline />
        ) : (
          images.map((src) => <img key={src} src={src} alt={prompt ?? 'Generated image'} />)
        )}
      </div>
    </article>
  );
}
