// #region readme-react
import { useState } from 'react';
import { ConduitRealtimeClient, type TaskState } from 'conduit-realtime';
import { useConduitRealtime } from 'conduit-realtime/react';

export function App({ virtualKey, baseUrl }: { virtualKey: string; baseUrl: string }) {
  const [prompt, setPrompt] = useState('A beautiful sunset over mountains');
  const { state, isConnected, error, client, generateImage, tasks } = useConduitRealtime({
    virtualKey,
    baseUrl,
    autoConnect: true,
    hubType: 'image',
    onCompleted: ({ taskId, imageUrl }) => console.log(`Task ${taskId} completed: ${imageUrl}`),
  });

  return (
    <main>
      <p id="state">{state}</p>
      <p id="same-module">{String(client === null || client instanceof ConduitRealtimeClient)}</p>
      {error && <p className="error">{error.message}</p>}
      <input id="prompt" value={prompt} onChange={(e) => setPrompt(e.target.value)} />
      <button id="generate" disabled={!isConnected} onClick={() => generateImage({ model: 'dall-e-3', prompt })}>
        Generate image
      </button>
      {[...tasks.values()].map((task: TaskState) => (
        <div key={task.id} className="task" data-status={task.status}>
          <progress max={100} value={task.progress} /> {task.statusText} {task.estimatedSecondsRemaining}
          {task.result?.imageUrl && <img src={task.result.imageUrl} alt={prompt} />}
        </div>
      ))}
    </main>
  );
}
// #endregion
