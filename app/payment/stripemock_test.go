package payment_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app/payment"
)

// stripeMockBinary finds stripe-mock: $STRIPE_MOCK, then PATH, then
// $GOPATH/bin (or ~/go/bin). Install it with
//
//	go install github.com/stripe/stripe-mock@v0.203.0
func stripeMockBinary() string {
	if p := os.Getenv("STRIPE_MOCK"); p != "" {
		return p
	}
	if p, err := exec.LookPath("stripe-mock"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		gopath = filepath.Join(home, "go")
	}
	p := filepath.Join(strings.Split(gopath, string(os.PathListSeparator))[0], "bin", "stripe-mock")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

// startStripeMock runs stripe-mock on a loopback port chosen by the
// system and returns its base URL, or skips the test when the binary is
// not installed.
func startStripeMock(t *testing.T) string {
	t.Helper()
	bin := stripeMockBinary()
	if bin == "" {
		t.Skip("stripe-mock not installed (go install github.com/stripe/stripe-mock@v0.203.0, or set STRIPE_MOCK)")
	}
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:", "-https-addr", "127.0.0.1:")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Skipf("stripe-mock does not start: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "Listening for HTTP at address: "); ok {
				addr <- a
			}
		}
	}()
	select {
	case a := <-addr:
		return "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatal("stripe-mock did not report its address")
	}
	return ""
}

// TestStripeMockShapes sends the client's requests other than the SPT
// charge to stripe-mock, which validates them against Stripe's OpenAPI
// spec (it knows no SPT parameter, so Authorize is left to the emulator).
func TestStripeMockShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts stripe-mock")
	}
	t.Parallel()
	base := startStripeMock(t)
	s := &payment.Stripe{BaseURL: base, Retries: -1}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const key = "sk_test_123"
	calls := []struct {
		name string
		call func() (string, error)
	}{
		{"Get", func() (string, error) {
			in, err := s.Get(ctx, key, "pi_123")
			return id(in), err
		}},
		{"ConfirmAuthenticated", func() (string, error) {
			in, err := s.ConfirmAuthenticated(ctx, key, "pi_123", validThreeDS, "k-confirm")
			return id(in), err
		}},
		{"Capture", func() (string, error) {
			in, err := s.Capture(ctx, key, "pi_123", "k-capture")
			return id(in), err
		}},
		{"Cancel", func() (string, error) {
			in, err := s.Cancel(ctx, key, "pi_123", "abandoned", "k-cancel")
			return id(in), err
		}},
		{"RefundPartial", func() (string, error) {
			r, err := s.Refund(ctx, key, "pi_123", 500, "requested_by_customer", "k-refund")
			if r == nil {
				return "", err
			}
			return r.ID, err
		}},
		{"RefundFull", func() (string, error) {
			r, err := s.Refund(ctx, key, "pi_123", 0, "", "k-refund-full")
			if r == nil {
				return "", err
			}
			return r.ID, err
		}},
		{"GetRefund", func() (string, error) {
			r, err := s.GetRefund(ctx, key, "re_123")
			if r == nil {
				return "", err
			}
			return r.ID, err
		}},
		{"FindBySession", func() (string, error) {
			ins, err := s.FindBySession(ctx, key, "cs_1")
			if len(ins) == 0 {
				return "", err
			}
			return ins[0].ID, err
		}},
		{"Account", func() (string, error) {
			a, _, err := s.Account(ctx, key)
			return a, err
		}},
	}
	for _, c := range calls {
		got, err := c.call()
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got == "" {
			t.Errorf("%s: no id in the answer", c.name)
		}
	}
}

func id(in *payment.Intent) string {
	if in == nil {
		return ""
	}
	return in.ID
}
