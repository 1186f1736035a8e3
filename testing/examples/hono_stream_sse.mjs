// Hono's streamSSE helper as its docs show it ("Streaming Helper"), on @hono/node-server.
// An endless stream (judge it with --hold).
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { serve } from '@hono/node-server';

const app = new Hono();
let id = 0;
app.get('/sse', async (c) => streamSSE(c, async (stream) => {
  while (true) {
    const message = `It is ${new Date().toISOString()}`;
    await stream.writeSSE({ data: message, event: 'time-update', id: String(id++) });
    await stream.sleep(100);
  }
}));
serve({ fetch: app.fetch, port: Number(process.argv[2]), hostname: '127.0.0.1' });
