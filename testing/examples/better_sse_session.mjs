// better-sse's README: createSession(req, res) in an Express route, then session.push(...).
// An endless stream (judge it with --hold).
import express from 'express';
import { createSession } from 'better-sse';

const app = express();
app.get('/sse', async (req, res) => {
  const session = await createSession(req, res);
  let i = 0;
  const timer = setInterval(() => session.push(`Hello world! ${i++}`), 100);
  session.on('disconnected', () => clearInterval(timer));
});
app.listen(Number(process.argv[2]), '127.0.0.1');
