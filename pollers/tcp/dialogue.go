package tcp

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
)

// dialogue is a text protocol session: what the monitor says and reads.
type dialogue struct {
	pr     *probe
	conn   net.Conn
	lr     *lineReader
	banner string
}

func (d *dialogue) send(line string) error {
	d.pr.tr.client(line)
	if _, err := io.WriteString(d.conn, line+"\r\n"); err != nil {
		return fmt.Errorf("send %s: %w", strings.Fields(line)[0], err)
	}
	return nil
}

// goodbye ends the session politely; the service has already proved
// itself, so what it answers to QUIT/LOGOUT does not count.
func (d *dialogue) goodbye(cmd string, read func() error) {
	if d.send(cmd) == nil {
		_ = read()
	}
}

// smtp: 220 greeting, EHLO, STARTTLS and EHLO again if asked, QUIT.
func (d *dialogue) smtp(ctx context.Context) error {
	greet, err := d.lr.expectCode(220, "greeting")
	if len(greet) > 0 {
		d.banner = greet[0]
	}
	if err != nil {
		return err
	}
	ehlo, err := d.ehlo()
	if err != nil {
		return err
	}
	if d.pr.p.StartTLS {
		if err := d.startTLS(ctx, ehlo); err != nil {
			return err
		}
	}
	d.goodbye("QUIT", func() error { _, err := d.lr.expectCode(221, "QUIT"); return err })
	return nil
}

func (d *dialogue) ehlo() ([]string, error) {
	if err := d.send("EHLO " + d.pr.p.EHLOName); err != nil {
		return nil, err
	}
	return d.lr.expectCode(250, "EHLO")
}

func (d *dialogue) startTLS(ctx context.Context, ehlo []string) error {
	if !offers(ehlo, "STARTTLS") {
		return fmt.Errorf("STARTTLS: the server does not offer it in its EHLO reply")
	}
	if err := d.send("STARTTLS"); err != nil {
		return err
	}
	if _, err := d.lr.expectCode(220, "STARTTLS"); err != nil {
		return err
	}
	tc, err := d.pr.handshake(ctx, d.conn)
	if err != nil {
		return err
	}
	d.conn = tc
	d.lr = newLineReader(tc, &d.pr.tr)
	_, err = d.ehlo()
	return err
}

// offers: an EHLO reply line "250-STARTTLS" or "250 STARTTLS" names ext.
func offers(ehlo []string, ext string) bool {
	for _, l := range ehlo {
		if len(l) > 4 && strings.EqualFold(strings.Fields(l[4:] + " x")[0], ext) {
			return true
		}
	}
	return false
}

// imap: "* OK" (or "* PREAUTH") greeting, LOGOUT.
func (d *dialogue) imap() error {
	greet, err := d.lr.prefixed("greeting", "* OK", "* PREAUTH")
	d.banner = greet
	if err != nil {
		return err
	}
	d.goodbye("m1 LOGOUT", func() error { return d.lr.untilTag("m1", "LOGOUT") })
	return nil
}

// pop3: "+OK" greeting, QUIT.
func (d *dialogue) pop3() error {
	greet, err := d.lr.prefixed("greeting", "+OK")
	d.banner = greet
	if err != nil {
		return err
	}
	d.goodbye("QUIT", func() error { _, err := d.lr.prefixed("QUIT", "+OK"); return err })
	return nil
}

// ftp: 220 greeting (a 120 "ready in n minutes" is not ready), QUIT.
func (d *dialogue) ftp() error {
	greet, err := d.lr.expectCode(220, "greeting")
	if len(greet) > 0 {
		d.banner = greet[0]
	}
	if err != nil {
		return err
	}
	d.goodbye("QUIT", func() error { _, err := d.lr.expectCode(221, "QUIT"); return err })
	return nil
}
