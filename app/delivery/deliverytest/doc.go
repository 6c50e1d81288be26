// Package deliverytest runs the far ends of package delivery locally: an
// SFTP server over a folder and an ACP Feed API server, both on 127.0.0.1,
// with switches to inject the failures delivery must survive (a connection
// cut mid-upload, rejected logins, a missing posix-rename, 429/5xx answers,
// lost responses).
//
// Tests start them with StartSFTP and StartFeedAPI, which stop them when
// the test ends; the demo command uses NewSFTPServer and ListenFeedAPI and
// closes them itself.
package deliverytest
