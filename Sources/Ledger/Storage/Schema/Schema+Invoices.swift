import GRDB

extension Schema {
    /// Invoices and their numbering: one counter per issuer, bumped by the insert of the invoice
    /// itself, so a number exists exactly when its invoice does (no gap, no duplicate, even across
    /// a crash: both are in the transaction that records the invoice or neither is).
    static func createInvoices(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE invoice_counters (
                issuer_id TEXT PRIMARY KEY NOT NULL,
                last_sequence INTEGER NOT NULL CHECK (last_sequence >= 0)
            ) STRICT;

            -- lines and details are canonical JSON written by Reports; the money columns repeat
            -- the totals so SQL alone can audit them.
            CREATE TABLE invoices (
                id INTEGER PRIMARY KEY,
                issuer_id TEXT NOT NULL REFERENCES invoice_counters(issuer_id),
                sequence INTEGER NOT NULL CHECK (sequence > 0),
                number TEXT NOT NULL CHECK (length(number) BETWEEN 1 AND 64),
                organisation_id TEXT NOT NULL REFERENCES organisations(id),
                period TEXT NOT NULL CHECK (length(period) > 0),
                issue_date TEXT NOT NULL CHECK (length(issue_date) = 10),
                due_date TEXT NOT NULL CHECK (length(due_date) = 10 AND due_date >= issue_date),
                currency TEXT NOT NULL CHECK (length(currency) = 3),
                tax_rate_ppm INTEGER NOT NULL CHECK (tax_rate_ppm BETWEEN 0 AND 1000000),
                subtotal_minor INTEGER NOT NULL,
                tax_minor INTEGER NOT NULL,
                total_minor INTEGER NOT NULL CHECK (total_minor = subtotal_minor + tax_minor),
                lines TEXT NOT NULL,
                details TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                UNIQUE (issuer_id, sequence),
                UNIQUE (issuer_id, number),
                UNIQUE (organisation_id, period)
            ) STRICT;

            -- Gap-free by construction: an invoice must take exactly the next sequence of its
            -- issuer, and taking it moves the counter. Issued invoices never change.
            CREATE TRIGGER invoices_take_the_next_number BEFORE INSERT ON invoices
            WHEN NEW.sequence IS NOT
                (SELECT last_sequence + 1 FROM invoice_counters WHERE issuer_id = NEW.issuer_id)
            BEGIN SELECT RAISE(ABORT, 'an invoice must take its issuer''s next sequence'); END;
            CREATE TRIGGER invoices_move_the_counter AFTER INSERT ON invoices
            BEGIN
                UPDATE invoice_counters SET last_sequence = NEW.sequence WHERE issuer_id = NEW.issuer_id;
            END;
            CREATE TRIGGER invoices_are_immutable_update BEFORE UPDATE ON invoices
            BEGIN SELECT RAISE(ABORT, 'issued invoices never change: issue a credit note'); END;
            CREATE TRIGGER invoices_are_immutable_delete BEFORE DELETE ON invoices
            BEGIN SELECT RAISE(ABORT, 'issued invoices never change: issue a credit note'); END;
            """)
    }
}
