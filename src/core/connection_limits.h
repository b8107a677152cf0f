// ConnectionLimits: which connections a server keeps when clients open more than it may hold,
// so that clients who authenticated are never locked out by clients who did not
// (docs/architecture.md §5). Sans-I/O: the server reports each accept, authentication, busy or
// idle turn and close; it closes the connections admit() names.
//
// A connection starts unauthenticated. Unauthenticated ones share a small pool of their own;
// an authenticated one leaves it and, while it is busy (a request being answered, a stream, a
// session), is never closed to make room. When a cap is reached, room is made by closing, in
// order: an idle unauthenticated connection of the address holding the most of them, then an
// idle authenticated one (between two requests: its client opens a new one when it needs it).
// Only when every candidate is busy is the new connection refused. Within an address the
// oldest goes first — except that one which has said nothing while half the pool's worth of
// connections were admitted after it goes before any that spoke: a client sends its request at
// once, and an idle flood then displaces its own connections, not the one that is about to
// authenticate. A client that keeps reconnecting therefore displaces only its own address's
// (and its own) connections, and one address cannot hold the pool against another.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace reliant {

struct ConnectionLimitsConfig {
  std::size_t connections_max = 4096;     // open at once, authenticated or not; at least 1
  std::size_t unauthenticated_max = 128;  // of them, not yet authenticated; at least 1
  std::size_t per_address_max = 256;      // from one client address; 0: no cap
};

class ConnectionLimits {
 public:
  using Id = std::uint64_t;  // 0 is never an id; a later connection has a larger id

  explicit ConnectionLimits(ConnectionLimitsConfig config);

  struct Admission {
    Id id = 0;  // 0: refused (every connection that could make room is busy)
    // To close now, to make room; already forgotten (forget() on them changes nothing).
    std::vector<Id> evicted;
  };
  // Whether a connection's client has sent something the server has not read yet (bytes in its
  // socket's buffer): asked of a silent connection before it is closed, so that one whose
  // request is on its way is not taken for idle.
  using SpokeCheck = std::function<bool(Id)>;
  // A new connection from `address` (the key a server counts clients by), unauthenticated and
  // idle until told otherwise. `spoke` may be empty.
  Admission admit(const std::string& address, const SpokeCheck& spoke = {});

  // The connection's request carried a valid credential: it leaves the unauthenticated pool for
  // good. Unknown ids (closed, evicted) are ignored.
  void authenticate(Id id);
  // Its client sent something (a request, a handshake, a call): it is closed after those that
  // never did. Unknown ids are ignored.
  void mark_spoken(Id id);
  // Busy: closing it would cut something its client waits for (an answer, a stream, a session).
  void set_busy(Id id, bool busy);
  // The connection closed. Unknown ids are ignored.
  void forget(Id id);

  bool contains(Id id) const { return entries_.count(id) > 0; }
  bool is_authenticated(Id id) const;
  std::size_t open() const { return entries_.size(); }
  std::size_t unauthenticated() const { return unauthenticated_; }
  std::size_t open_from(const std::string& address) const;
  const ConnectionLimitsConfig& config() const { return config_; }

 private:
  struct Entry {
    std::string address;
    bool authenticated = false;
    bool busy = false;
    bool spoken = false;
  };
  struct PerAddress {
    std::size_t open = 0;
    std::set<Id> idle_unauthenticated;  // the address's eviction candidates, oldest first
    std::set<Id> silent;                // those of them that never spoke
    std::set<Id> idle_authenticated;
  };

  // Adds or removes `id` from the candidate sets its state puts it in.
  void index(Id id, const Entry& entry);
  void unindex(Id id, const Entry& entry);
  void set_idle_unauthenticated_count(const std::string& address, std::size_t before,
                                      std::size_t after);
  // The idle unauthenticated connection of `address` to close first; 0: none. Marks as spoken
  // the silent ones `spoke` finds have spoken.
  Id victim_of(const std::string& address, const SpokeCheck& spoke);
  // victim_of() the address holding the most idle unauthenticated connections; 0: none.
  Id unauthenticated_victim(const SpokeCheck& spoke);
  void remove(Id id);

  ConnectionLimitsConfig config_;
  std::map<Id, Entry> entries_;
  std::map<std::string, PerAddress> addresses_;  // only addresses with open connections
  std::set<Id> idle_authenticated_;              // of every address, oldest first
  // (idle unauthenticated connections, address) for each address with some: the last is the
  // address that gives up a connection first.
  std::set<std::pair<std::size_t, std::string>> by_idle_unauthenticated_;
  std::size_t unauthenticated_ = 0;
  Id next_id_ = 1;
};

}  // namespace reliant
