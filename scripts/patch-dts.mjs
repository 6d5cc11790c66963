// Makes the generated .d.ts precise where wasm-bindgen cannot express the type: generic methods, rest
// parameters, optional parameters, and `any` in the raw wasm exports. Fails loudly if a pattern is missing,
// so a wasm-bindgen upgrade cannot silently loosen the published types.
import { readFileSync, writeFileSync } from 'node:fs';

const replacements = [
  ['invoke(methodName: string, ...args: Array<any>): Promise<T>;', 'invoke<T = unknown>(methodName: string, ...args: unknown[]): Promise<T>;'],
  ['send(methodName: string, ...args: Array<any>): Promise<void>;', 'send(methodName: string, ...args: unknown[]): Promise<void>;'],
  ['stream(methodName: string, ...args: Array<any>): StreamResult<T>;', 'stream<T = unknown>(methodName: string, ...args: unknown[]): StreamResult<T>;'],
  ['export class StreamResult {', 'export class StreamResult<T = unknown> {'],
  ['off(methodName: string, method: (...args: never[]) => unknown): void;', 'off(methodName: string, method?: (...args: never[]) => unknown): void;'],
  ['on(event: string, listener: (payload: never) => void): ConduitRealtimeClient;',
   'on<K extends keyof ConduitEventMap>(event: K, listener: (payload: ConduitEventMap[K]) => void): ConduitRealtimeClient;'],
  ['once(event: string, listener: (payload: never) => void): ConduitRealtimeClient;',
   'once<K extends keyof ConduitEventMap>(event: K, listener: (payload: ConduitEventMap[K]) => void): ConduitRealtimeClient;'],
  ['off(event: string, listener: (payload: never) => void): ConduitRealtimeClient;',
   'off<K extends keyof ConduitEventMap>(event: K, listener?: (payload: ConduitEventMap[K]) => void): ConduitRealtimeClient;'],
  ['removeAllListeners(event: string): ConduitRealtimeClient;', 'removeAllListeners(event?: keyof ConduitEventMap): ConduitRealtimeClient;'],
  ['cancelTask(taskId: any, taskType: TaskType | undefined): Promise<void>;', 'cancelTask(taskId: string, taskType?: TaskType): Promise<void>;'],
  ['getTaskStatus(taskId: any, taskType: TaskType | undefined): Promise<TaskStatusReport>;', 'getTaskStatus(taskId: string, taskType?: TaskType): Promise<TaskStatusReport>;'],
  ['subscribeToTask(taskId: any, taskType: TaskType): Promise<void>;', 'subscribeToTask(taskId: string, taskType: TaskType): Promise<void>;'],
  ['unsubscribeFromTask(taskId: any): Promise<void>;', 'unsubscribeFromTask(taskId: string): Promise<void>;'],
  ['isConnected(hubType: TaskType | undefined): boolean;', 'isConnected(hubType?: TaskType): boolean;'],
];

for (const file of process.argv.slice(2)) {
  let text = readFileSync(file, 'utf8');
  for (const [from, to] of replacements) {
    if (!text.includes(from)) {
      console.error(`patch-dts: "${from}" not found in ${file}`);
      process.exit(1);
    }
    text = text.split(from).join(to);
  }
  // The raw wasm exports (InitOutput) are typed with `any` by wasm-bindgen; nothing public needs that.
  text = text.replace(/(export interface InitOutput \{[\s\S]*?\n\})/, (block) => block.replace(/\bany\b/g, 'unknown'));
  const leftover = text.split('\n').filter((line) => /\bany\b/.test(line.replace(/\/\*\*.*|^\s*\*.*/, '')));
  if (leftover.length) {
    console.error(`patch-dts: 'any' left in ${file}:\n${leftover.join('\n')}`);
    process.exit(1);
  }
  writeFileSync(file, text);
}
