-- metakocka_take_slot also answers how many of the company's slots are
-- held (metakocka.SlotStore), so that a waiter knows how many must be
-- given back before one is its own (ahead + held - limit + 1) and sleeps
-- until it heard of that many (LISTEN metakocka_slot) instead of asking at
-- every one: every ask queues on the company's advisory lock. Its
-- arguments and its other columns are those of version 20, so a process
-- that selects them by name keeps working. Same version as the sqlite
-- store's 00021.

-- +goose Up
DROP FUNCTION metakocka_take_slot(text, text, text, integer, bigint, bigint);

-- +goose StatementBegin
CREATE FUNCTION metakocka_take_slot(p_company text, p_waiter text, p_slot text, p_limit integer,
    p_ttl_ms bigint, p_wait_ttl_ms bigint, OUT slot text, OUT ahead integer, OUT paused_ms double precision, OUT held integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_paused timestamptz;
    v_held   integer;
    v_ticket bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('mksync metakocka budget ' || p_company, 0));
    slot := ''; ahead := 0; paused_ms := 0; held := 0;
    SELECT paused_until INTO v_paused FROM metakocka_pauses WHERE company_id = p_company AND paused_until > now();
    IF FOUND THEN
        -- A queued waiter sleeps the pause out and keeps its place.
        paused_ms := EXTRACT(EPOCH FROM v_paused - now()) * 1000;
        UPDATE metakocka_slot_waiters SET expires_at = v_paused + p_wait_ttl_ms * interval '1 millisecond'
        WHERE company_id = p_company AND waiter = p_waiter;
        RETURN;
    END IF;
    DELETE FROM metakocka_slots WHERE company_id = p_company AND expires_at < now();
    DELETE FROM metakocka_slot_waiters WHERE company_id = p_company AND expires_at < now();
    SELECT count(*) INTO v_held FROM metakocka_slots WHERE company_id = p_company;
    held := v_held;
    SELECT ticket INTO v_ticket FROM metakocka_slot_waiters WHERE company_id = p_company AND waiter = p_waiter;
    SELECT count(*) INTO ahead FROM metakocka_slot_waiters
    WHERE company_id = p_company AND (v_ticket IS NULL OR ticket < v_ticket);
    IF ahead < p_limit - v_held THEN
        INSERT INTO metakocka_slots (id, company_id, expires_at)
        VALUES (p_slot, p_company, now() + p_ttl_ms * interval '1 millisecond');
        DELETE FROM metakocka_slot_waiters WHERE company_id = p_company AND waiter = p_waiter;
        slot := p_slot;
        held := v_held + 1;
        RETURN;
    END IF;
    IF p_waiter <> '' THEN
        INSERT INTO metakocka_slot_waiters (company_id, waiter, expires_at)
        VALUES (p_company, p_waiter, now() + p_wait_ttl_ms * interval '1 millisecond')
        ON CONFLICT (company_id, waiter) DO UPDATE SET expires_at = EXCLUDED.expires_at;
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION metakocka_take_slot(text, text, text, integer, bigint, bigint);

-- +goose StatementBegin
CREATE FUNCTION metakocka_take_slot(p_company text, p_waiter text, p_slot text, p_limit integer,
    p_ttl_ms bigint, p_wait_ttl_ms bigint, OUT slot text, OUT ahead integer, OUT paused_ms double precision)
LANGUAGE plpgsql AS $$
DECLARE
    v_paused timestamptz;
    v_held   integer;
    v_ticket bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('mksync metakocka budget ' || p_company, 0));
    slot := ''; ahead := 0; paused_ms := 0;
    SELECT paused_until INTO v_paused FROM metakocka_pauses WHERE company_id = p_company AND paused_until > now();
    IF FOUND THEN
        -- A queued waiter sleeps the pause out and keeps its place.
        paused_ms := EXTRACT(EPOCH FROM v_paused - now()) * 1000;
        UPDATE metakocka_slot_waiters SET expires_at = v_paused + p_wait_ttl_ms * interval '1 millisecond'
        WHERE company_id = p_company AND waiter = p_waiter;
        RETURN;
    END IF;
    DELETE FROM metakocka_slots WHERE company_id = p_company AND expires_at < now();
    DELETE FROM metakocka_slot_waiters WHERE company_id = p_company AND expires_at < now();
    SELECT count(*) INTO v_held FROM metakocka_slots WHERE company_id = p_company;
    SELECT ticket INTO v_ticket FROM metakocka_slot_waiters WHERE company_id = p_company AND waiter = p_waiter;
    SELECT count(*) INTO ahead FROM metakocka_slot_waiters
    WHERE company_id = p_company AND (v_ticket IS NULL OR ticket < v_ticket);
    IF ahead < p_limit - v_held THEN
        INSERT INTO metakocka_slots (id, company_id, expires_at)
        VALUES (p_slot, p_company, now() + p_ttl_ms * interval '1 millisecond');
        DELETE FROM metakocka_slot_waiters WHERE company_id = p_company AND waiter = p_waiter;
        slot := p_slot;
        RETURN;
    END IF;
    IF p_waiter <> '' THEN
        INSERT INTO metakocka_slot_waiters (company_id, waiter, expires_at)
        VALUES (p_company, p_waiter, now() + p_wait_ttl_ms * interval '1 millisecond')
        ON CONFLICT (company_id, waiter) DO UPDATE SET expires_at = EXCLUDED.expires_at;
    END IF;
END
$$;
-- +goose StatementEnd
