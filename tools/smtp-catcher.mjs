// A local SMTP server for the email task type during development: it accepts every message on
// SMTP_URL's default (127.0.0.1:1025), delivers nothing, and prints each message's envelope and
// headers. `npm run smtp:catch`; SMTP_CATCHER_PORT picks another port.
import { SMTPServer } from 'smtp-server';

const port = Number(process.env.SMTP_CATCHER_PORT ?? 1025);

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  onData(stream, session, callback) {
    const chunks = [];
    stream.on('data', (chunk) => chunks.push(chunk));
    stream.on('end', () => {
      const message = Buffer.concat(chunks).toString('utf8');
      const headers = message.split(/\r?\n\r?\n/, 1)[0];
      const to = session.envelope.rcptTo.map((recipient) => recipient.address).join(', ');
      console.log(`--- message from ${session.envelope.mailFrom ? session.envelope.mailFrom.address : '?'} to ${to} (${message.length} bytes)\n${headers}\n`);
      callback();
    });
  },
});

server.on('error', (error) => console.error(`smtp catcher: ${error.message}`));
server.listen(port, '127.0.0.1', () => console.log(`smtp catcher listening on smtp://127.0.0.1:${port} (Ctrl-C stops it)`));
