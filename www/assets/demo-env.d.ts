// Types of demo-env.js for the React demo.
import type { TaskState } from 'conduit-realtime';
export function demoEnv(): { key: string; dialect: 'deployed' | 'documented'; baseUrl: string };
export function cutConnection(key: string): Promise<number>;
export function etaText(seconds: number | undefined | null): string;
export const BADGE_TEXT: Record<'connected' | 'connecting' | 'reconnecting' | 'disconnected', string>;
export function statusLine(task: TaskState): string;
export function mediaOf(task: TaskState): { images: string[]; video: string | null; poster: string | null };
export const PROMPT_PLACEHOLDER: string;
