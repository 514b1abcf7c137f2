// The test sshd lives in bench/lib so the SFTP benchmark (compiled with the app) can start one too.
export { startSshd, type TestSshd } from '../../bench/lib/sshd.js';
