package testkit

import (
	"crypto/hmac"
	"crypto/sha256"
)

// ReferenceMAC is HMAC-SHA256(key, timestamp + "." + body), the signature
// scheme of both the agents' request signatures and the merchant's event
// webhooks, computed here independently of the code under test so a fuzz
// test can check what that code accepts against it.
func ReferenceMAC(key []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(timestamp + "."))
	m.Write(body)
	return m.Sum(nil)
}
