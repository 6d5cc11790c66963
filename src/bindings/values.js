// JavaScript values the bindings build in one call rather than field by field across the boundary.

/** A ConduitRealtimeClient `progress` event; fields given as `undefined` are left out. */
export function progressEvent(taskId, taskType, progress, status, message, imagesCompleted, totalImages,
                              framesCompleted, totalFrames, estimatedSecondsRemaining) {
  const e = { taskId };
  if (taskType !== undefined) e.taskType = taskType;
  e.progress = progress;
  if (status !== undefined) e.status = status;
  if (message !== undefined) e.message = message;
  if (imagesCompleted !== undefined) e.imagesCompleted = imagesCompleted;
  if (totalImages !== undefined) e.totalImages = totalImages;
  if (framesCompleted !== undefined) e.framesCompleted = framesCompleted;
  if (totalFrames !== undefined) e.totalFrames = totalFrames;
  if (estimatedSecondsRemaining !== undefined) e.estimatedSecondsRemaining = estimatedSecondsRemaining;
  return e;
}

/** The string of short ASCII `bytes` (a view of WebAssembly memory). */
export function asciiString(bytes) {
  return String.fromCharCode.apply(null, bytes);
}

/** A frozen task of the snapshot; fields given as `undefined` are left out (the order is the JSON snapshot's). */
export function taskObject(id, taskType, status, progress, message, statusText, estimatedSecondsRemaining, result,
                           error, isRetryable, reason, subscribed, createdAt, updatedAt) {
  const t = { id, taskId: id };
  if (taskType !== undefined) t.taskType = taskType;
  t.status = status;
  t.progress = progress;
  if (message !== undefined) t.message = message;
  if (statusText !== undefined) t.statusText = statusText;
  if (estimatedSecondsRemaining !== undefined) t.estimatedSecondsRemaining = estimatedSecondsRemaining;
  if (result !== undefined) t.result = Object.freeze(result);
  if (error !== undefined) t.error = error;
  if (isRetryable !== undefined) t.isRetryable = isRetryable;
  if (reason !== undefined) t.reason = reason;
  t.subscribed = subscribed;
  t.createdAt = createdAt;
  t.updatedAt = updatedAt;
  return Object.freeze(t);
}
