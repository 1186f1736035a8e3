// Fastify writing the stream on reply.raw (the way its docs and issues show SSE without a plugin).
import Fastify from 'fastify';

const app = Fastify();
app.get('/events', (request, reply) => {
  reply.raw.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
  let i = 0;
  const timer = setInterval(() => {
    reply.raw.write(`data: ${i++}\n\n`);
    if (i === 5) { clearInterval(timer); reply.raw.end(); }
  }, 100);
  request.raw.on('close', () => clearInterval(timer));
});
app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' });
