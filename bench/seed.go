package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// The portal phase's data is written with bulk SQL (INSERT … SELECT over
// generate_series) straight into the benchmark's private database: making
// 100,000 customers through the workflow would take hours. Each customer is
// nevertheless a full record as the store and the activities leave it, and
// every constraint of the schema applies (its one trigger guards updates,
// and the seed only inserts); checkSeed checks the records afterwards:
//
//   - a subaccount with its organization ("For subaccount '<name>'") and
//     the four default role bindings, revoked with the organization deleted
//     when the subaccount is;
//   - one to three confirmation emails, each sent before the customer
//     answered or the record was deleted, with the activities' Message-ID;
//   - for a customer who confirmed (ACTIVE, SUSPENDED, SUSPENSION_EXPIRED)
//     the answer CONFIRM, activated_at and its first cloud named as the
//     subaccount's cloud name, one in ten active ones a second cloud;
//   - SUSPENDED: an open suspension, its data kept 60 days from the stop;
//     SUSPENSION_EXPIRED: a suspension that ran out, the record deleted at
//     its delete_after; one in twenty older active customers a suspension
//     resumed;
//   - DECLINED: the answer DECLINE and the record deleted at that moment;
//     EXPIRED: deleted at the deadline; CANCELLED: deleted before it.
//
// created_at runs back from now, one customer every span/n, so that the
// list's keyset pages cross all of it; one customer in ten shares its
// created_at with the one before it, as rows written together do, so that
// the id decides their order. Only customers younger than the confirmation
// window (7 days) may still await confirmation; the status of each is
// drawn from a hash of its number, so statuses interleave in time: of the
// younger ones 60 % await confirmation, 30 % are ACTIVE, 5 % CANCELLED and
// 5 % DECLINED; of the older ones 55 % are ACTIVE, 8 % SUSPENDED, 18 %
// EXPIRED, 10 % CANCELLED, 5 % DECLINED and 4 % SUSPENSION_EXPIRED (ACTIVE
// instead when younger than 70 days, too young for a suspension to have
// run out). The run id of each record names no Temporal run.

// seedSpan is how far back the seeded customers' created_at reaches.
const seedSpan = 2 * 365 * 24 * time.Hour

// seedFirst and seedSecond make the customers' names, "<first> <second>
// <number>": one name in twenty holds each first word, one in ten each
// second word.
var seedFirst = []string{"Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Wonka", "Tyrell", "Cyberdyne", "Soylent",
	"Hooli", "Vandelay", "Massive", "Gringotts", "Oceanic", "Monarch", "Aperture", "Nakatomi", "Virtucon", "Duff"}
var seedSecond = []string{"Labs", "Systems", "GmbH", "Holdings", "Logistics", "Retail", "Bakery", "Clinic", "Studio", "Partners"}

// seedSQL builds the temporary table of the customers to write, one row
// each with every time and id decided. $1 number of customers, $2 now, $3
// seconds between two customers, $4 a word put in every name ("" or
// "Elsewhere " for another partner), $5/$6 the name words.
const seedSQL = `
CREATE TEMP TABLE seed ON COMMIT DROP AS
WITH g AS (
	SELECT i, $2::timestamptz - make_interval(secs => ((i + 1 - (i % 10 = 1)::int) * $3::float8)) AS created_at,
	       abs(hashint4(i * 3 + 1)::bigint) % 100 AS h
	FROM generate_series(0, $1::int - 1) AS i
), k AS (
	SELECT i, created_at, $2::timestamptz - created_at AS age,
	       CASE WHEN $2::timestamptz - created_at < interval '7 days' THEN
	                 CASE WHEN h < 60 THEN 'VERIFY' WHEN h < 90 THEN 'ACTIVE' WHEN h < 95 THEN 'CANCELLED' ELSE 'DECLINED' END
	            WHEN h < 55 THEN 'ACTIVE' WHEN h < 63 THEN 'SUSPENDED' WHEN h < 81 THEN 'EXPIRED' WHEN h < 91 THEN 'CANCELLED'
	            WHEN h < 96 THEN 'DECLINED'
	            WHEN $2::timestamptz - created_at > interval '70 days' THEN 'SUSPENSION_EXPIRED'
	            ELSE 'ACTIVE' END AS kind,
	       ($5::text[])[1 + abs(hashint4(i)::bigint) % cardinality($5::text[])] || ' ' ||
	       ($6::text[])[1 + abs(hashint4(i + 7)::bigint) % cardinality($6::text[])] || ' ' || $4::text || lpad(i::text, 6, '0') AS name
	FROM g
), t AS (
	SELECT *,
	       CASE WHEN kind IN ('ACTIVE', 'SUSPENDED', 'SUSPENSION_EXPIRED')
	            THEN created_at + least(make_interval(hours => 1 + i % 72), age / 2) END AS activated_at,
	       CASE WHEN kind = 'DECLINED' THEN created_at + least(make_interval(hours => 1 + i % 48), age / 2) END AS declined_at
	FROM k
), u AS (
	SELECT *,
	       CASE kind WHEN 'SUSPENDED' THEN greatest(activated_at + interval '1 hour', $2::timestamptz - make_interval(days => 1 + i % 58))
	                 WHEN 'SUSPENSION_EXPIRED' THEN activated_at + make_interval(days => 1 + i % 5)
	                 WHEN 'ACTIVE' THEN CASE WHEN i % 20 = 0 AND age > interval '10 days' THEN activated_at + interval '1 day' END
	       END AS suspended_at
	FROM t
)
SELECT i, kind, name, lower(name) AS name_key, created_at, activated_at, suspended_at,
       gen_random_uuid() AS sub_id, gen_random_uuid() AS org_id, gen_random_uuid() AS run_id,
       gen_random_uuid() AS suspension_id, gen_random_uuid() AS cloud_id, gen_random_uuid() AS cloud2_id,
       created_at + interval '7 days' AS deadline,
       CASE WHEN kind = 'ACTIVE' AND suspended_at IS NOT NULL THEN suspended_at + interval '2 days' END AS resumed_at,
       CASE WHEN kind IN ('ACTIVE', 'SUSPENDED', 'SUSPENSION_EXPIRED') THEN 'CONFIRM' WHEN kind = 'DECLINED' THEN 'DECLINE' END AS answer,
       coalesce(activated_at, declined_at) AS answered_at,
       CASE kind WHEN 'EXPIRED' THEN created_at + interval '7 days'
                 WHEN 'CANCELLED' THEN created_at + least(make_interval(hours => 2 + i % 100), age / 2)
                 WHEN 'DECLINED' THEN declined_at
                 WHEN 'SUSPENSION_EXPIRED' THEN suspended_at + interval '60 days' END AS deleted_at
FROM u`

// seedInserts write the records from the seed table; $1, where used, is
// the partner.
var seedInserts = []struct{ what, sql string }{
	{"subaccounts", `
INSERT INTO subaccounts (id, partner_id, onboarding_id, run_id, name, name_key, email, contact, cloud_name, status,
                         confirm_deadline, created_at, updated_at, activated_at, deleted_at, deleted_reason, answer, answered_at)
SELECT sub_id, $1, 'onboarding/' || $1 || '/' || name_key, run_id::text, name, name_key,
       'billing+' || i || '@customer' || (i % 997) || '.example', 'Contact ' || i, 'cloud-' || i,
       CASE kind WHEN 'VERIFY' THEN 'ACCEPTANCE_REQUIRED' WHEN 'ACTIVE' THEN 'ACTIVE' WHEN 'SUSPENDED' THEN 'SUSPENDED' ELSE 'INACTIVE' END,
       deadline, created_at, greatest(created_at, activated_at, suspended_at, resumed_at, deleted_at), activated_at, deleted_at,
       CASE WHEN deleted_at IS NOT NULL THEN kind END, answer, answered_at
FROM seed`},
	{"organizations", `
INSERT INTO organizations (id, subaccount_id, name, created_at, deleted_at)
SELECT org_id, sub_id, 'For subaccount ''' || name || '''', created_at, deleted_at FROM seed`},
	{"role bindings", `
INSERT INTO role_bindings (subject_type, subject_id, role, resource_type, resource_id, subaccount_id, created_at, revoked_at)
SELECT b.subject_type, CASE b.subject_type WHEN 'partner' THEN $1 ELSE s.sub_id::text END, b.role, b.resource_type,
       CASE b.resource_type WHEN 'subaccount' THEN s.sub_id ELSE s.org_id END, s.sub_id, s.created_at, s.deleted_at
FROM seed s CROSS JOIN (VALUES ('partner', 'billing.accounts.owner', 'subaccount'),
                               ('partner', 'organization-manager.organizations.owner', 'organization'),
                               ('customer', 'admin', 'subaccount'),
                               ('customer', 'organization-manager.organizations.owner', 'organization')) AS b (subject_type, role, resource_type)`},
	{"emails", `
INSERT INTO emails (message_id, subaccount_id, seq, sent_at)
SELECT 'confirm-' || s.sub_id || '-' || n || '@bench.example', s.sub_id, n, s.created_at + (n - 1) * interval '1 day' + interval '2 seconds'
FROM seed s CROSS JOIN LATERAL generate_series(1, 1 + (s.i % 3 = 0)::int + (s.i % 9 = 0)::int) AS n
WHERE s.created_at + (n - 1) * interval '1 day' + interval '2 seconds' < coalesce(s.answered_at, s.deleted_at, now())`},
	{"clouds", `
INSERT INTO clouds (id, organization_id, name, created_at)
SELECT cloud_id, org_id, 'cloud-' || i, activated_at FROM seed WHERE activated_at IS NOT NULL
UNION ALL
SELECT cloud2_id, org_id, 'cloud-' || i || '-b', activated_at + least(interval '1 day', (now() - activated_at) / 2)
FROM seed WHERE kind = 'ACTIVE' AND i % 10 = 0`},
	{"suspensions", `
INSERT INTO suspensions (id, subaccount_id, reason, suspended_at, delete_after, resumed_at, expired_at)
SELECT suspension_id, sub_id, CASE i % 3 WHEN 0 THEN 'unpaid invoices' WHEN 1 THEN '' ELSE 'asked by the customer' END,
       suspended_at, suspended_at + interval '60 days', resumed_at,
       CASE WHEN kind = 'SUSPENSION_EXPIRED' THEN suspended_at + interval '60 days' END
FROM seed WHERE suspended_at IS NOT NULL`},
}

// seedCustomers writes n customers of a partner in one transaction and
// returns how many rows each table received. now is the newest customer's
// reference time; marker is put in every name.
func seedCustomers(ctx context.Context, db *sqlx.DB, partner string, n int, now time.Time, marker string) (map[string]int64, error) {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck
	step := seedSpan.Seconds() / float64(n)
	if _, err := tx.ExecContext(ctx, seedSQL, n, now, step, marker, pq.Array(seedFirst), pq.Array(seedSecond)); err != nil {
		return nil, fmt.Errorf("seed %s: plan the customers: %w", partner, err)
	}
	rows := map[string]int64{}
	for _, ins := range seedInserts {
		// now() inside the statements is the transaction's start, at or
		// after the now the seed table was planned with.
		var args []any
		if strings.Contains(ins.sql, "$1") {
			args = append(args, partner)
		}
		res, err := tx.ExecContext(ctx, ins.sql, args...)
		if err != nil {
			return nil, fmt.Errorf("seed %s: %s: %w", partner, ins.what, err)
		}
		if rows[ins.what], err = res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("seed %s: %s: %w", partner, ins.what, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("seed %s: %w", partner, err)
	}
	return rows, nil
}

// analyze refreshes the planner's statistics and the visibility map of the
// tables the seed wrote, as autovacuum would soon after such a load.
func analyze(ctx context.Context, db *sqlx.DB) error {
	for _, t := range []string{"subaccounts", "organizations", "role_bindings", "emails", "clouds", "suspensions", "partners"} {
		if _, err := db.ExecContext(ctx, "VACUUM (ANALYZE) "+t); err != nil {
			return fmt.Errorf("vacuum analyze %s: %w", t, err)
		}
	}
	return nil
}

// seedCount is one line of the seeded partner's census.
type seedCount struct {
	Status string `db:"status"`
	Reason string `db:"reason"`
	N      int    `db:"n"`
}

// census counts a partner's customers by status and deletion reason.
func census(ctx context.Context, db *sqlx.DB, partner string) ([]seedCount, error) {
	var out []seedCount
	err := db.SelectContext(ctx, &out, `SELECT status, coalesce(deleted_reason, '') AS reason, count(*) AS n
		FROM subaccounts WHERE partner_id = $1 GROUP BY 1, 2 ORDER BY 1, 2`, partner)
	if err != nil {
		return nil, fmt.Errorf("census: %w", err)
	}
	return out, nil
}

// seedChecks are what every seeded customer must satisfy, as the store's
// own methods leave a record; each query counts the customers that do not.
var seedChecks = []struct{ what, sql string }{
	{"one organization, named for the customer", `
SELECT count(*) FROM subaccounts s WHERE s.partner_id = $1 AND
	(SELECT count(*) FROM organizations o WHERE o.subaccount_id = s.id AND o.name = 'For subaccount ''' || s.name || '''') <> 1`},
	{"the four default role bindings", `
SELECT count(*) FROM subaccounts s WHERE s.partner_id = $1 AND
	(SELECT count(DISTINCT (r.subject_type, r.role, r.resource_type)) FROM role_bindings r WHERE r.subaccount_id = s.id) <> 4`},
	{"organization deleted and bindings revoked iff INACTIVE, at deleted_at", `
SELECT count(*) FROM subaccounts s JOIN organizations o ON o.subaccount_id = s.id WHERE s.partner_id = $1 AND
	(o.deleted_at IS DISTINCT FROM s.deleted_at OR EXISTS (SELECT 1 FROM role_bindings r WHERE r.subaccount_id = s.id AND r.revoked_at IS DISTINCT FROM s.deleted_at))`},
	{"a first email sent, the emails numbered from 1", `
SELECT count(*) FROM subaccounts s WHERE s.partner_id = $1 AND NOT EXISTS (SELECT 1 FROM emails e WHERE e.subaccount_id = s.id AND e.seq = 1)`},
	{"a cloud named as the subaccount's iff confirmed", `
SELECT count(*) FROM subaccounts s JOIN organizations o ON o.subaccount_id = s.id WHERE s.partner_id = $1 AND
	(s.activated_at IS NOT NULL) <> EXISTS (SELECT 1 FROM clouds c WHERE c.organization_id = o.id AND c.name = s.cloud_name)`},
	{"an open suspension iff SUSPENDED", `
SELECT count(*) FROM subaccounts s WHERE s.partner_id = $1 AND
	(s.status = 'SUSPENDED') <> EXISTS (SELECT 1 FROM suspensions sp WHERE sp.subaccount_id = s.id AND sp.resumed_at IS NULL AND sp.expired_at IS NULL)`},
	{"SUSPENSION_EXPIRED: a suspension expired at deleted_at", `
SELECT count(*) FROM subaccounts s WHERE s.partner_id = $1 AND
	(coalesce(s.deleted_reason, '') = 'SUSPENSION_EXPIRED') <> EXISTS (SELECT 1 FROM suspensions sp WHERE sp.subaccount_id = s.id AND sp.expired_at = s.deleted_at)`},
	{"the answer DECLINE iff DECLINED, CONFIRM iff confirmed", `
SELECT count(*) FROM subaccounts s WHERE s.partner_id = $1 AND
	((coalesce(s.deleted_reason, '') = 'DECLINED') <> (coalesce(s.answer, '') = 'DECLINE')
	 OR (s.activated_at IS NOT NULL) <> (coalesce(s.answer, '') = 'CONFIRM'))`},
	{"awaiting confirmation only before the deadline; nothing in the future", `
SELECT count(*) FROM subaccounts s WHERE s.partner_id = $1 AND
	((s.status = 'ACCEPTANCE_REQUIRED' AND s.confirm_deadline <= now()) OR greatest(s.created_at, s.updated_at, s.activated_at, s.deleted_at) > now())`},
}

// checkSeed checks every seeded customer of a partner against seedChecks.
func checkSeed(ctx context.Context, db *sqlx.DB, partner string) error {
	for _, c := range seedChecks {
		var bad int
		if err := db.GetContext(ctx, &bad, c.sql, partner); err != nil {
			return fmt.Errorf("check the seed (%s): %w", c.what, err)
		}
		if bad > 0 {
			return fmt.Errorf("check the seed: %d customers of %s lack %s", bad, partner, c.what)
		}
	}
	return nil
}
