// Package cachehit carries the news that a model call was answered by a
// response cache (package cache) to a tracing middleware outside it
// (package otelkit) without either importing the other.
//
// The tracing middleware puts a Recorder in the context of the call it
// traces (WithRecorder); the cache calls Mark on the context it was given
// when it answers without calling the model. The Recorder remembers the
// span it was created for and ignores marks made under another span (a
// nested call that started its own span), and the cache removes the
// Recorder (Detach) from the context it passes to the model it wraps, so a
// hit in a call nested inside the model does not mark the outer span.
package cachehit
