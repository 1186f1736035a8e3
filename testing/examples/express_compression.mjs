// Express behind the compression middleware, as its README warns: without res.flush() the
// compressor holds the events until the response ends (EXAMPLE_FLUSH=1: flushed after each
// event, as the README says to do for server-sent events).
import express from 'express';
import compression from 'compression';

const flush = process.env.EXAMPLE_FLUSH === '1';
const app = express();
app.use(compression());
app.get('/events', (req, res) => {
  res.set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
  res.flushHeaders();
  let i = 0;
  const timer = setInterval(() => {
    res.write(`data: ${i++}\n\n`);
    if (flush) res.flush();
    if (i === 5) { clearInterval(timer); res.end(); }
  }, 100);
  req.on('close', () => clearInterval(timer));
});
app.listen(Number(process.argv[2]), '127.0.0.1');
