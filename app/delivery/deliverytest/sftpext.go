package deliverytest

import (
	"encoding/binary"
	"sync"

	"golang.org/x/crypto/ssh"
)

// sshFxpVersion is the type byte of the server's first SFTP packet.
const sshFxpVersion = 2

// extensionFilter removes one extension from the SFTP version packet the
// server sends first. pkg/sftp sets the advertised extensions for the whole
// process, so hiding one from a single session has to happen on the wire.
type extensionFilter struct {
	ssh.Channel
	drop string

	mu   sync.Mutex
	done bool
	buf  []byte
}

// Write holds bytes back until the version packet is complete, rewrites
// it, then passes everything through.
func (f *extensionFilter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return f.Channel.Write(p)
	}
	f.buf = append(f.buf, p...)
	if len(f.buf) < 4 {
		return len(p), nil
	}
	size := int(binary.BigEndian.Uint32(f.buf))
	if len(f.buf)-4 < size {
		return len(p), nil
	}
	pkt := filterVersion(f.buf[4:4+size], f.drop)
	out := binary.BigEndian.AppendUint32(nil, uint32(len(pkt)))
	out = append(append(out, pkt...), f.buf[4+size:]...)
	f.done, f.buf = true, nil
	if _, err := f.Channel.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// filterVersion returns the version packet without the extension named
// drop; anything unexpected passes unchanged.
func filterVersion(pkt []byte, drop string) []byte {
	if len(pkt) < 5 || pkt[0] != sshFxpVersion {
		return pkt
	}
	out := append([]byte(nil), pkt[:5]...) // type + protocol version
	for b := pkt[5:]; len(b) > 0; {
		name, rest, ok := cutString(b)
		if !ok {
			return pkt
		}
		data, rest, ok := cutString(rest)
		if !ok {
			return pkt
		}
		if string(name) != drop {
			out = appendString(appendString(out, name), data)
		}
		b = rest
	}
	return out
}

func cutString(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := int(binary.BigEndian.Uint32(b))
	if len(b)-4 < n {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}

func appendString(b, s []byte) []byte {
	return append(binary.BigEndian.AppendUint32(b, uint32(len(s))), s...)
}
