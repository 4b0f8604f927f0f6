import Foundation
import Testing
@testable import Ledger

/// Goal: `--db` reads a file path as SQLite (unchanged) and a `postgres://` URL as libpq reads it:
/// percent-decoding, default port, sslmode, Unix sockets; a URL it cannot use is a usage error (64),
/// and no message shows the password.
@Suite struct StoreLocationTests {
    func postgres(_ text: String) throws -> PostgresLocation {
        guard case .postgres(let location) = try StoreLocation.parse(text) else {
            Issue.record("\(text) is not a PostgreSQL location")
            throw StoreLocationError("not postgres")
        }
        return location
    }

    func refusal(_ text: String) -> String? {
        do {
            _ = try StoreLocation.parse(text)
            return nil
        } catch let error as StoreLocationError {
            #expect(error.failureClass == .usage)
            return error.message
        } catch {
            return "\(error)"
        }
    }

    @Test func filePaths_stayTheSQLiteLedger() throws {
        for path in ["credits.sqlite", "/var/lib/credits/ledger.sqlite", "./a b.sqlite", "postgres.sqlite",
                     "dir/postgres:/x", "./odd://name", "C:credits"] {
            #expect(try StoreLocation.parse(path) == .sqlite(path: path), "\(path)")
        }
    }

    @Test func fullURL_isDecoded() throws {
        let location = try postgres("postgresql://ledger%40ops:p%40ss%3Aw%2Frd%25@db.example.org:6543/credits%20prod?sslmode=require")
        #expect(location.user == "ledger@ops")
        #expect(location.password == "p@ss:w/rd%")
        #expect(location.endpoint == .tcp(host: "db.example.org", port: 6543))
        #expect(location.database == "credits prod")
        #expect(location.sslMode == .require)
        #expect(!location.redacted.contains("p@ss") && !location.redacted.contains("p%40ss"))
        #expect(location.redacted.contains(":***@"))
    }

    @Test func defaults_portPreferAndDatabaseFromUser() throws {
        let location = try postgres("postgres://alice@localhost")
        #expect(location.endpoint == .tcp(host: "localhost", port: 5432))
        #expect(location.sslMode == .prefer)
        #expect(location.database == "alice")
        #expect(location.password == nil)
        let hostless = try postgres("POSTGRES://bob:secret@/ledger")
        #expect(hostless.endpoint == .tcp(host: "localhost", port: 5432))
        #expect(hostless.database == "ledger")
    }

    @Test func sslModes_mapOneToOne() throws {
        for mode in PostgresLocation.SSLMode.allCases {
            #expect(try postgres("postgres://u@h/d?sslmode=\(mode.rawValue)").sslMode == mode)
        }
        #expect(refusal("postgres://u@h/d?sslmode=allow")?.contains("allow") == true)
        #expect(refusal("postgres://u@h/d?sslmode=maybe")?.contains("maybe") == true)
    }

    @Test func ipv6AndQueryParameters() throws {
        let v6 = try postgres("postgresql://u@[::1]:5433/d")
        #expect(v6.endpoint == .tcp(host: "::1", port: 5433))
        let query = try postgres("postgresql:///d?host=db&port=7777&user=carol&password=x%26y&dbname=other"
            + "&connect_timeout=3&application_name=nightly&sslrootcert=/etc/ca.pem&sslmode=verify-full")
        #expect(query.endpoint == .tcp(host: "db", port: 7777))
        #expect(query.user == "carol")
        #expect(query.password == "x&y")
        #expect(query.database == "other")
        #expect(query.connectTimeoutSeconds == 3)
        #expect(query.applicationName == "nightly")
        #expect(query.sslRootCertificate == "/etc/ca.pem")
        #expect(query.sslMode == .verifyFull)
    }

    @Test func unixSockets_byHostParameterOrEncodedHost() throws {
        let parameter = try postgres("postgresql://u@/ledger?host=/var/run/postgresql")
        #expect(parameter.endpoint == .unixSocket(path: "/var/run/postgresql/.s.PGSQL.5432"))
        #expect(parameter.sslMode == .disable)
        let encoded = try postgres("postgresql://u@%2Ftmp%2Fpg:5499/ledger")
        #expect(encoded.endpoint == .unixSocket(path: "/tmp/pg/.s.PGSQL.5499"))
        #expect(refusal("postgresql://u@/ledger?host=/tmp&sslmode=require") != nil)
    }

    @Test func connectionURL_readsBackAsTheSameLocation() throws {
        for text in ["postgresql://a%20b:p%40%3A%2F%3F%23%25@127.0.0.1:54329/postgres?sslmode=disable",
                     "postgres://u@[::1]/d?sslmode=verify-ca&sslrootcert=/x%20y.pem",
                     "postgresql://u@/ledger?host=/var/run/postgresql&port=6000"] {
            let location = try postgres(text)
            #expect(try postgres(location.connectionURL) == location, "\(text)")
        }
    }

    @Test func unusableURLs_areUsageErrors_withoutThePassword() throws {
        #expect(refusal("mysql://root:hunter2@db/credits")?.contains("unknown scheme") == true)
        #expect(refusal("mysql://root:hunter2@db/credits")?.contains("hunter2") == false)
        for bad in ["postgres://u:hunter2@h:0/d", "postgres://u:hunter2@h:65536/d", "postgres://u:hunter2@h:port/d",
                    "postgres://u:hunter2@h/d?bogus=1", "postgres://u:hunter2@h/d?sslmode", "postgres://u:hunter2@h/a/b",
                    "postgres://u:hunter2@h/d%ZZ", "postgres://u:hunter2@h/d%00", "postgres://u:hunter2@[::1/d",
                    "postgres://u:hunter2@h/d?connect_timeout=0", "postgres://u:hunter2@h/d?port=1&port=2",
                    "postgres://u:hunter2@h/d#frag", "postgres://u@h/d?password=hunter2&bogus=1"] {
            let message = try #require(refusal(bad), "\(bad) was accepted")
            #expect(!message.contains("hunter2"), "\(message)")
        }
    }
}
