// Express, the hand-written stream every tutorial shows (MDN "Using server-sent events" headers):
// Content-Type, Cache-Control: no-cache, Connection: keep-alive, flushHeaders, res.write per event.
import express from 'express';

const app = express();
app.get('/events', (req, res) => {
  res.set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
  res.flushHeaders();
  let i = 0;
  const timer = setInterval(() => {
    res.write(`data: ${i++}\n\n`);
    if (i === 5) { clearInterval(timer); res.end(); }
  }, 100);
  req.on('close', () => clearInterval(timer));
});
app.listen(Number(process.argv[2]), '127.0.0.1');
