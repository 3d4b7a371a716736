package sqlite

import (
	"database/sql"

	"github.com/mksync/mksync"
)

// WriteDB returns the pool of the database's one writer connection, for
// components that keep their own tables in the same file and must write in
// the store's transactions (River's riversqlite driver for jobs). A
// transaction of InTx (see TxOf) belongs to it, so while one is open every
// other use of WriteDB waits: inside InTx, write only through that
// transaction. Use it only for tables that are not the store's.
func (db *DB) WriteDB() *sql.DB { return db.wdb }

// TxOf returns the transaction of a Store passed to an InTx callback, so
// that work which must commit with the store's writes (a River job insert)
// can join it. ok is false for any other Store.
func TxOf(s mksync.Store) (tx *sql.Tx, ok bool) {
	st, isStore := s.(*store)
	if !isStore || st.tx == nil {
		return nil, false
	}
	return st.tx, true
}
