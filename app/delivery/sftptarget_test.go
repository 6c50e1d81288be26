package delivery_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/acpbridge/acpbridge/app/delivery"
)

func pemEncode(typ string, b []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b})
}

func testPrivateKey(t *testing.T, passphrase string) []byte {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(block)
}

func TestSFTPTargetValidate(t *testing.T) {
	t.Parallel()
	hostKey := otherHostKey(t)
	key := testPrivateKey(t, "")
	locked := testPrivateKey(t, "secret")
	valid := delivery.SFTPTarget{Addr: "sftp.example.com:22", User: "shop", Password: "pw", HostKey: hostKey}
	tests := []struct {
		name    string
		mutate  func(*delivery.SFTPTarget)
		wantErr string // substring; "" means valid
	}{
		{"valid password", func(*delivery.SFTPTarget) {}, ""},
		{"valid key", func(t *delivery.SFTPTarget) { t.Password, t.PrivateKeyPEM = "", key }, ""},
		{"keyscan line", func(t *delivery.SFTPTarget) { t.HostKey = "sftp.example.com " + hostKey }, ""},
		{"host key with comment", func(t *delivery.SFTPTarget) { t.HostKey = hostKey + " root@host\n" }, ""},
		{"ipv6 addr", func(t *delivery.SFTPTarget) { t.Addr = "[::1]:2222" }, ""},
		{"missing addr", func(t *delivery.SFTPTarget) { t.Addr = "" }, "Addr"},
		{"addr without port", func(t *delivery.SFTPTarget) { t.Addr = "sftp.example.com" }, "Addr"},
		{"addr without host", func(t *delivery.SFTPTarget) { t.Addr = ":22" }, "Addr"},
		{"addr bad port", func(t *delivery.SFTPTarget) { t.Addr = "h:99999" }, "port"},
		{"missing user", func(t *delivery.SFTPTarget) { t.User = " " }, "User"},
		{"no credential", func(t *delivery.SFTPTarget) { t.Password = "" }, "credential"},
		{"two credentials", func(t *delivery.SFTPTarget) { t.PrivateKeyPEM = key }, "only one credential"},
		{"garbage key", func(t *delivery.SFTPTarget) { t.Password, t.PrivateKeyPEM = "", []byte("nope") }, "PrivateKeyPEM"},
		{"encrypted key", func(t *delivery.SFTPTarget) { t.Password, t.PrivateKeyPEM = "", locked }, "passphrase"},
		{"missing host key", func(t *delivery.SFTPTarget) { t.HostKey = "" }, "HostKey is required"},
		{"garbage host key", func(t *delivery.SFTPTarget) { t.HostKey = "ssh-ed25519 not-base64" }, "HostKey"},
		{"known_hosts port form", func(t *delivery.SFTPTarget) { t.HostKey = "[sftp.example.com]:2222 " + hostKey }, ""},
		{"cert-authority line", func(t *delivery.SFTPTarget) { t.HostKey = "@cert-authority *.example.com " + hostKey }, "not a @cert-authority"},
		{"two host keys", func(t *delivery.SFTPTarget) { t.HostKey = hostKey + "\n" + hostKey }, "exactly one"},
		{"NUL in dir", func(t *delivery.SFTPTarget) { t.Dir = "a\x00b" }, "Dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tgt := valid
			tt.mutate(&tgt)
			err := tgt.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate() error = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate() error = %v, want one mentioning %q", err, tt.wantErr)
			case tt.wantErr != "" && !errors.Is(err, delivery.ErrInvalidTarget):
				t.Errorf("Validate() error = %v does not wrap ErrInvalidTarget", err)
			}
		})
	}
}

func TestSFTPTargetRedactsSecrets(t *testing.T) {
	t.Parallel()
	key := testPrivateKey(t, "")
	tests := []struct {
		name   string
		tgt    delivery.SFTPTarget
		secret string
	}{
		{"password", delivery.SFTPTarget{Addr: "h:22", User: "u", Password: "hunter2-secret", HostKey: otherHostKey(t)}, "hunter2-secret"},
		{"private key", delivery.SFTPTarget{Addr: "h:22", User: "u", PrivateKeyPEM: key, HostKey: otherHostKey(t)}, string(key[40:80])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			slog.New(slog.NewJSONHandler(&logs, nil)).Info("push", slog.Any("target", tt.tgt))
			for _, out := range []string{fmt.Sprint(tt.tgt), fmt.Sprintf("%+v", tt.tgt), fmt.Sprintf("%#v", tt.tgt), logs.String()} {
				if strings.Contains(out, tt.secret) {
					t.Errorf("output leaks the secret: %s", out)
				}
			}
		})
	}
}
