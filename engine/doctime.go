package engine

import (
	"context"
	"time"

	"github.com/mksync/mksync/metakocka"
)

// documentInfoFlag is get_document's return_document_info for type t:
// asked on sales orders and bills, where the docs show it, and left out
// elsewhere.
func documentInfoFlag(t metakocka.DocType) metakocka.Bool {
	if metakocka.HasDocumentInfo(t) {
		return metakocka.NewBool(true)
	}
	return metakocka.Bool{}
}

// docChanged is the last change Metakocka documents for md: the latest
// NEW, CHANGE or status change of its document_info, else its
// last_change_ts; zero when it carries neither (an offer, or a document
// read by search).
func docChanged(md *metakocka.Document) time.Time {
	t := md.LastContentChange()
	if lc := parseMkTime(md.LastChangeTS); lc.After(t) {
		t = lc
	}
	return t
}

// remoteChanged reads the change time of a document that carries none
// (read by search: a pull) with get_document and return_document_info; the
// policy newest_wins needs it only for a field changed on both sides. Zero
// when Metakocka documents none for the type (offers).
func (l *documentLocal) remoteChanged(ctx context.Context, md *metakocka.Document) (time.Time, error) {
	if !metakocka.HasDocumentInfo(md.DocType) {
		return time.Time{}, nil
	}
	d, found, err := l.s.getMkDocument(ctx, []metakocka.DocType{md.DocType}, md.MkID)
	if err != nil || !found {
		return time.Time{}, err
	}
	return docChanged(&d), nil
}
