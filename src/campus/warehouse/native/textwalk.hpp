// The native fast path of the ingest: one NDJSON line in, the pseudonymised resource out.
//
// It does what worker.Runner.process and pseudonymise._Walk do to a resource, on the JSON
// text (simdjson's DOM) rather than on Python objects: structural checks, the policy's
// actions, ids and references pseudonymised, dates shifted, the key columns; and it writes
// the result exactly as orjson.dumps writes the Python walk's result.
//
// It only takes the common case. On anything else (a Patient, a resource nested elsewhere than
// in `contained`, a reference that is not `Type/id`, a logical reference, duplicate keys, a number
// whose text orjson would write differently, any problem to report) it gives up (`Bail`) and
// the resource takes the Python path, which is the specification: the tests require that
// every resource this path lands is byte for byte what the Python path lands.
#pragma once

#include <openssl/sha.h>
#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "checked_shift.hpp"
#include "relative_reference.hpp"

namespace campus {

namespace dom = simdjson::dom;
using std::string;
using std::string_view;

struct Bail {};  // thrown: the resource goes to the Python path

// The text of a string element (checked to be one by the caller).
inline std::string_view sv(simdjson::dom::element value) {
  return std::string_view(value.get_string());
}

enum class Action : uint8_t { None, Keep, Redact, CryptoHash, DateShift, Generalize };

inline Action action_of(const string& name) {
  if (name == "keep") return Action::Keep;
  if (name == "redact") return Action::Redact;
  if (name == "cryptoHash") return Action::CryptoHash;
  if (name == "dateShift") return Action::DateShift;
  if (name == "generalize") return Action::Generalize;
  return Action::None;
}

struct Node {
  Action action = Action::None;
  std::unordered_map<string, Action> by_url;
  std::vector<const Node*> children;  // by the element name's number (`KeyInfo::rule`)
  bool has_children = false;
};

enum class Kind : uint8_t { Nothing, Date, Reference, NamedReference };

// What the walk needs to know of an element name, found by one lookup.
struct KeyInfo {
  Kind kind = Kind::Nothing;
  int rule = -1;  // the name's number among the policy's element names, -1 if none names it
  int root = -1;  // the name's slot among the root elements read (`Root`), -1 if none
  bool code_list = false, reference_key = false, coding_key = false;
};

// One text column of a batch of staged rows, laid out as an Arrow string array.
struct TextColumn {
  string data;
  std::vector<int32_t> offsets{0};
  std::vector<uint8_t> valid;
  size_t nulls = 0;

  void add(string_view value) {
    data.append(value);
    offsets.push_back(int32_t(data.size()));
    valid.push_back(1);
  }
  void null() {
    offsets.push_back(int32_t(data.size()));
    valid.push_back(0);
    ++nulls;
  }
  void clear() {
    data.clear();
    offsets.assign(1, 0);
    valid.clear();
    nulls = 0;
  }
  // Arrow's validity bitmap (least significant bit first).
  string bitmap() const {
    string bits((valid.size() + 7) / 8, '\0');
    for (size_t i = 0; i < valid.size(); ++i)
      if (valid[i]) bits[i / 8] = char(bits[i / 8] | (1 << (i % 8)));
    return bits;
  }
};

// A type's rows landed by this path and not written yet: the columns of parts.PART_SCHEMA.
struct Staged {
  TextColumn id, patient, effective, code, resource;
  std::vector<int64_t> order;
  size_t rows() const { return order.size(); }
  void clear() {
    id.clear();
    patient.clear();
    effective.clear();
    code.clear();
    resource.clear();
    order.clear();
  }
};

// The reference targets this path staged for finalise's check (refs/ of parts.REFS_SCHEMA,
// less the columns that are the task's: file, entry, _task, _chunk).
struct StagedTargets {
  TextColumn type, target, source_type;
  std::vector<int64_t> line;
  size_t rows() const { return line.size(); }
  void clear() {
    type.clear();
    target.clear();
    source_type.clear();
    line.clear();
  }
};

struct Outcome {
  bool dropped = false;  // the patient opted out: nothing staged
  bool full = false;     // the type's staged rows reached a batch: to be written
  bool targets_full = false;  // the staged targets reached a batch: to be written
  int type_index = -1;  // the type's rank among the resource types given (add_name 0)
  string id;
  string patient;  // empty: none
  string effective;
  string code;
  string data;
  bool has_patient = false;
  bool has_effective = false;
  bool has_code = false;
  std::vector<string> references;  // `Type/pseudonym` of each relative reference
  std::vector<size_t> reference_types;  // length of the type in each of them
};

// Element name -> KeyInfo: open addressing over a cheap hash of the name's ends (names are
// short), met on every element. The table grows with the names seen (a few hundred), so that
// it stays in the processor's caches; each entry holds the name's length and first 8 bytes.
class KeyTable {
 public:
  static constexpr size_t LIMIT = 4096;  // names come from the input: bounded

  const KeyInfo* find(string_view key) const {
    uint64_t head = 0, tail = 0;
    ends(key, head, tail);
    for (size_t slot = start(head, tail, key.size());; slot = (slot + 1) & mask_) {
      const Entry& entry = entries_[slot];
      if (entry.name == nullptr) return nullptr;
      if (entry.head == head && entry.size == key.size() &&
          (key.size() <= 8 || std::memcmp(entry.name->data(), key.data(), key.size()) == 0))
        return &entry.info;
    }
  }
  // False when full (the caller then works the name out each time).
  bool insert(string_view key, const KeyInfo& info) {
    if (names_.size() >= LIMIT) return false;
    if (2 * (names_.size() + 1) > entries_.size()) grow();
    names_.emplace_back(key);
    place(&names_.back(), info);
    return true;
  }
  void clear() {
    if (names_.empty()) return;
    entries_.assign(entries_.size(), Entry{});
    names_.clear();
  }
  KeyTable() : entries_(256), mask_(255) {}

 private:
  struct Entry {
    const string* name = nullptr;
    uint64_t head = 0;
    size_t size = 0;
    KeyInfo info;
  };
  static void ends(string_view key, uint64_t& head, uint64_t& tail) {
    size_t size = key.size();
    std::memcpy(&head, key.data(), size < 8 ? size : 8);
    if (size > 8) {
      size_t count = size < 16 ? size - 8 : 8;
      std::memcpy(&tail, key.data() + size - count, count);
    }
  }
  size_t start(uint64_t head, uint64_t tail, size_t size) const {
    uint64_t hash = (head * 0x9E3779B97F4A7C15ull) ^ (tail * 0xC2B2AE3D27D4EB4Full) ^ size;
    hash ^= hash >> 29;
    return size_t((hash * 0xBF58476D1CE4E5B9ull) >> 40) & mask_;
  }
  void place(const string* name, const KeyInfo& info) {
    uint64_t head = 0, tail = 0;
    ends(*name, head, tail);
    size_t slot = start(head, tail, name->size());
    while (entries_[slot].name != nullptr) slot = (slot + 1) & mask_;
    entries_[slot] = Entry{name, head, name->size(), info};
  }
  void grow() {
    std::vector<Entry> old(2 * entries_.size());
    old.swap(entries_);
    mask_ = entries_.size() - 1;
    for (const Entry& entry : old)
      if (entry.name != nullptr) place(entry.name, entry.info);
  }
  std::vector<Entry> entries_;
  size_t mask_;
  std::deque<string> names_;
};

// Recent keys of up to 96 bytes, each with a value of `Value` bytes, in a direct-mapped table
// made once: a key takes its slot from the one there, nothing is allocated afterwards. Exact:
// a key is found only if it is the one its slot holds.
template <size_t Slots, size_t Value>
class Recent {
 public:
  static constexpr size_t KEY = 96;
  // The value kept for `key`, or nullptr.
  const char* find(string_view key) const {
    const Slot& slot = slots_[slot_of(key)];
    if (slot.size != key.size() || std::memcmp(slot.key, key.data(), key.size()) != 0)
      return nullptr;
    return slot.value;
  }
  // Keep `key` with `value` (a longer key is not kept).
  void put(string_view key, const char* value) {
    if (key.empty() || key.size() > KEY) return;
    Slot& slot = slots_[slot_of(key)];
    slot.size = key.size();
    std::memcpy(slot.key, key.data(), key.size());
    if (Value) std::memcpy(slot.value, value, Value);
  }

 private:
  struct Slot {
    size_t size = 0;  // 0: empty
    char key[KEY];
    char value[Value ? Value : 1];
  };
  static size_t slot_of(string_view key) { return std::hash<string_view>()(key) & (Slots - 1); }
  std::vector<Slot> slots_ = std::vector<Slot>(Slots);
};

// ---- the walker (dates: checked_shift.hpp; references: relative_reference.hpp) ----

constexpr size_t MAX_DEPTH = 40;  // below the Python walk's 48: deeper goes there

class TextWalk {
 public:
  TextWalk(const string& key, bool date_shift, long max_days, bool redact_display,
           bool watch_identifiers)
      : date_shift_(date_shift),
        max_days_(max_days),
        redact_display_(redact_display),
        watch_identifiers_(watch_identifiers) {
    for (const char* name : {"resourceType", "id", "identifier", "contained"}) root_slot(name);
    unsigned char block[64] = {0};
    if (key.size() > 64) {
      SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), block);
    } else {
      std::memcpy(block, key.data(), key.size());
    }
    unsigned char pad[64];
    for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x36;
    SHA256_Init(&inner_);
    SHA256_Update(&inner_, pad, 64);
    for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x5c;
    SHA256_Init(&outer_);
    SHA256_Update(&outer_, pad, 64);
  }

  // -- set-up: the policy tree and the names of fhir.py, given by the Python side --
  int new_node(const string& action) {
    nodes_.emplace_back();
    nodes_.back().action = action_of(action);
    return int(nodes_.size()) - 1;
  }
  void add_url(int node, const string& url, const string& action) {
    nodes_[node].by_url[url] = action_of(action);
  }
  void add_child(int parent, const string& name, int child) {
    auto found = rule_names_.find(name);
    int number = int(rule_names_.size());
    if (found == rule_names_.end())
      rule_names_.emplace(name, number);
    else
      number = found->second;
    Node& node = nodes_[parent];
    if (node.children.size() <= size_t(number)) node.children.resize(number + 1, nullptr);
    node.children[number] = &nodes_[child];
    node.has_children = true;
    infos_.clear();  // names read before would miss this one's number
  }
  void set_root(const string& type_name, int node) {
    roots_[type_name] = node < 0 ? nullptr : &nodes_[node];
  }
  void set_anywhere(int node) { anywhere_ = node < 0 ? nullptr : &nodes_[node]; }
  // 0 resource types, 1 date keys, 2 date suffixes, 3 reference keys, 4 code lists,
  // 5 effective paths (`a` or `a.b`), 6 code keys, 7 patient keys, 8 coding keys
  void add_name(int which, const string& name) {
    switch (which) {
      case 0:
        type_names_.push_back(name);
        resource_types_.emplace(string_view(type_names_.back()), int(type_names_.size()) - 1);
        break;
      case 1: date_keys_.insert(name); break;
      case 2: date_suffixes_.push_back(name); break;
      case 3: reference_keys_.insert(name); break;
      case 4: code_lists_.insert(name); break;
      case 5: {
        size_t dot = name.find('.');
        int slot = root_slot(name.substr(0, dot));
        effective_paths_.emplace_back(slot, dot == string::npos ? "" : name.substr(dot + 1));
        column_slots_ |= uint64_t(1) << slot;
        break;
      }
      case 6:
        code_keys_.push_back(root_slot(name));
        column_slots_ |= uint64_t(1) << code_keys_.back();
        break;
      case 7: patient_keys_.push_back(root_slot(name)); break;
      case 8: coding_keys_.insert(name); break;
    }
  }

  // The pseudonym of `Type/id`, as Pseudonymiser._digest (exposed for the tests).
  string digest(string_view text) {
    unsigned char mac[32];
    hmac(text.data(), text.size(), mac);
    return hex16(mac);
  }

  // Whether a reference's `Type/pseudonym` target is seen for the first time by this worker
  // (then staged for finalise's check): bounded, as worker.Runner._target was.
  bool first_sight(const string& target) {
    if (seen_.find(target) != nullptr) return false;
    seen_.put(target, nullptr);
    return true;
  }

  // One resource: true when landed (staged, or dropped for an opt-out), false when the Python
  // path must take it. `order` is the row's input order and `line` its line, where its
  // reference targets are staged; a text of over `limit` bytes is the Python path's to report.
  bool transform(const char* data, size_t size, int64_t order, int64_t line, size_t limit,
                 Outcome& out) {
    out.references.clear();
    out.reference_types.clear();
    out.data.clear();
    out.has_patient = out.has_effective = out.has_code = false;
    out.dropped = out.full = out.targets_full = false;
    dom::element root;
    if (parser_.parse(data, size).get(root)) return false;
    try {
      if (!run(root, out)) return false;
    } catch (const Bail&) {
      return false;
    } catch (const simdjson::simdjson_error&) {
      return false;  // an element not of the type read: the Python path's to judge
    }
    if (out.data.size() > limit) return false;
    if (out.has_patient && opted_.count(out.patient)) {
      out.dropped = true;
      return true;
    }
    // Only a landed resource's targets count as seen (else the Python path, taking the
    // resource or a later one, would find them seen and stage none).
    for (size_t i = 0; i < out.references.size(); ++i) {
      const string& reference = out.references[i];
      if (!first_sight(reference)) continue;
      size_t type_size = out.reference_types[i];
      string_view text(reference);
      targets_.type.add(text.substr(0, type_size));
      targets_.target.add(text.substr(type_size + 1));
      targets_.source_type.add(type_names_[out.type_index]);
      targets_.line.push_back(line);
    }
    out.targets_full = targets_.rows() >= BATCH_ROWS;
    stage(out, order);
    return true;
  }

  // The reference targets staged since they were last taken.
  StagedTargets& targets() { return targets_; }

  // A patient who opted out (Runner.opted): their resources are dropped from now on.
  void opt_out(const string& patient) { opted_.insert(patient); }

  // The rows staged for a type, handed over and forgotten.
  Staged& staged(int type_index) { return staged_[type_index]; }
  size_t types() const { return staged_.size(); }

  static constexpr size_t BATCH_ROWS = 4096, BATCH_BYTES = 8 << 20;  // as parts.FLUSH_*

 private:
  void stage(Outcome& out, int64_t order) {
    if (staged_.size() < type_names_.size()) staged_.resize(type_names_.size());
    Staged& rows = staged_[out.type_index];
    rows.id.add(out.id);
    if (out.has_patient)
      rows.patient.add(out.patient);
    else
      rows.patient.null();
    if (out.has_effective)
      rows.effective.add(out.effective);
    else
      rows.effective.null();
    if (out.has_code)
      rows.code.add(out.code);
    else
      rows.code.null();
    rows.resource.add(out.data);
    rows.order.push_back(order);
    out.full = rows.rows() >= BATCH_ROWS || rows.resource.data.size() >= BATCH_BYTES;
  }

  // -- HMAC-SHA256 from the keyed states (as Pseudonymiser._hmac) --
  void hmac(const char* message, size_t size, unsigned char* mac) {
    SHA256_CTX context = inner_;
    SHA256_Update(&context, message, size);
    unsigned char digest[32];
    SHA256_Final(digest, &context);
    context = outer_;
    SHA256_Update(&context, digest, 32);
    SHA256_Final(mac, &context);
  }
  static string hex16(const unsigned char* mac) {
    string text;
    hex16(mac, text);
    return text;
  }
  // The first 16 bytes of a MAC in lowercase hexadecimal, into `out`.
  static void hex16(const unsigned char* mac, string& out) {
    static const char* HEX = "0123456789abcdef";
    out.resize(32);
    for (int i = 0; i < 16; ++i) {
      out[2 * i] = HEX[mac[i] >> 4];
      out[2 * i + 1] = HEX[mac[i] & 15];
    }
  }
  // The pseudonym of `Type/id`. Most ids are met once (a resource's own) and the others soon
  // after (its patient's, its encounter's): the recent ones are kept, without paying for the
  // others as a growing map would.
  const string& pseudonym(string_view type, string_view id) {
    scratch_.assign(type);
    scratch_.push_back('/');
    scratch_.append(id);
    const char* found = pseudonyms_.find(scratch_);
    if (found != nullptr) {
      pseudonym_.assign(found, 32);
      return pseudonym_;
    }
    unsigned char mac[32];
    hmac(scratch_.data(), scratch_.size(), mac);
    hex16(mac, pseudonym_);
    pseudonyms_.put(scratch_, pseudonym_.data());
    return pseudonym_;
  }
  long shift_days(const string& patient) {
    if (!date_shift_) return 0;
    long days;
    const char* found = shifts_.find(patient);
    if (found != nullptr) {
      std::memcpy(&days, found, sizeof days);
      return days;
    }
    string message = "dateshift|" + patient;
    unsigned char mac[32];
    hmac(message.data(), message.size(), mac);
    uint32_t raw = (uint32_t(mac[0]) << 24) | (uint32_t(mac[1]) << 16) |
                   (uint32_t(mac[2]) << 8) | uint32_t(mac[3]);
    days = long(raw % uint32_t(max_days_)) + 1;
    if (raw & (1u << 31)) days = -days;
    shifts_.put(patient, reinterpret_cast<const char*>(&days));
    return days;
  }

  // -- names --
  // The slot of a root element the path reads (resourceType, id, the patient's, the key
  // columns'): the root is read once into its slots (`Root`), not searched name by name.
  int root_slot(const string& name) {
    auto found = root_slots_.find(name);
    if (found != root_slots_.end()) return found->second;
    int slot = int(root_slots_.size());
    if (slot >= 64) throw std::length_error("too many root elements");
    root_slots_.emplace(name, slot);
    infos_.clear();
    return slot;
  }
  struct Root {
    dom::element slots[64];
    uint64_t present = 0;
    bool has(int slot) const { return (present >> slot) & 1; }
  };
  void read_root(dom::object object, Root& root) {
    root.present = 0;
    for (auto field : object) {
      int slot = info(field.key).root;
      if (slot >= 0) {
        root.slots[slot] = field.value;
        root.present |= uint64_t(1) << slot;
      }
    }
  }

  KeyInfo info(string_view key) {
    const KeyInfo* found = infos_.find(key);
    if (found != nullptr) return *found;
    string name(key);
    KeyInfo value;
    bool date = date_keys_.count(name) > 0;
    for (const string& suffix : date_suffixes_) {
      if (!date && key.size() >= suffix.size() &&
          key.substr(key.size() - suffix.size()) == suffix)
        date = true;
    }
    value.reference_key = reference_keys_.count(name) > 0;
    if (key == "reference")
      value.kind = Kind::Reference;
    else if (date)
      value.kind = Kind::Date;
    else if (value.reference_key)
      value.kind = Kind::NamedReference;
    auto rule = rule_names_.find(name);
    value.rule = rule == rule_names_.end() ? -1 : rule->second;
    value.code_list = code_lists_.count(name) > 0;
    value.coding_key = coding_keys_.count(name) > 0;
    auto slot = root_slots_.find(name);
    value.root = slot == root_slots_.end() ? -1 : slot->second;
    infos_.insert(key, value);
    return value;
  }
  Kind kind(string_view key) { return info(key).kind; }
  static const Node* child_of(const Node* node, const KeyInfo& key) {
    if (node == nullptr || key.rule < 0 || size_t(key.rule) >= node->children.size())
      return nullptr;
    return node->children[key.rule];
  }
  const Node* anywhere_child(const KeyInfo& key) const { return child_of(anywhere_, key); }

  // -- output, as orjson.dumps writes it --
  void text(string_view value) {
    string& out = *out_;
    out.push_back('"');
    size_t start = 0, i = 0;
#ifdef __SSE2__
    // 16 bytes at a time to the first that needs an escape (a quote, a backslash, < 0x20).
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'),
                  space = _mm_set1_epi8(0x1f);
    while (i + 16 <= value.size()) {
      __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(value.data() + i));
      __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(chunk, space), chunk);
      __m128i special = _mm_or_si128(
          control, _mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash)));
      if (_mm_movemask_epi8(special) != 0) break;
      i += 16;
    }
    if (value.size() - i < 16) {  // the last bytes, checked in a copy padded with letters
      alignas(16) char tail[16];
      std::memset(tail, 'a', 16);
      std::memcpy(tail, value.data() + i, value.size() - i);
      __m128i chunk = _mm_load_si128(reinterpret_cast<const __m128i*>(tail));
      __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(chunk, space), chunk);
      __m128i special = _mm_or_si128(
          control, _mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash)));
      if (_mm_movemask_epi8(special) == 0) i = value.size();
    }
#endif
    for (; i < value.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(value[i]);
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      out.append(value.data() + start, i - start);
      start = i + 1;
      switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\b': out.append("\\b"); break;
        case '\t': out.append("\\t"); break;
        case '\n': out.append("\\n"); break;
        case '\f': out.append("\\f"); break;
        case '\r': out.append("\\r"); break;
        default: {
          static const char* HEX = "0123456789abcdef";
          char escape[6] = {'\\', 'u', '0', '0', HEX[c >> 4], HEX[c & 15]};
          out.append(escape, 6);
        }
      }
    }
    out.append(value.data() + start, value.size() - start);
    out.push_back('"');
  }
  void key(string_view name, bool& first) {
    string& out = *out_;
    if (!first) out.push_back(',');
    first = false;
    // Element names are short and plain: written at once when no byte needs an escape.
    bool plain = name.size() <= 32;
    for (size_t i = 0; plain && i < name.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(name[i]);
      plain = c >= 0x20 && c != '"' && c != '\\';
    }
    if (!plain) {
      text(name);
      out.push_back(':');
      return;
    }
    size_t at = out.size();
    out.resize(at + name.size() + 3);
    char* where = &out[at];
    where[0] = '"';
    std::memcpy(where + 1, name.data(), name.size());
    where[name.size() + 1] = '"';
    where[name.size() + 2] = ':';
  }
  void number(dom::element value) {
    char buffer[64];
    switch (value.type()) {
      case dom::element_type::INT64: {
        auto end = std::to_chars(buffer, buffer + 64, int64_t(value.get_int64())).ptr;
        out_->append(buffer, end - buffer);
        return;
      }
      case dom::element_type::UINT64: {
        auto end = std::to_chars(buffer, buffer + 64, uint64_t(value.get_uint64())).ptr;
        out_->append(buffer, end - buffer);
        return;
      }
      default: {
        double x = value.get_double();
        double magnitude = std::fabs(x);
        // orjson writes these positionally; beyond, its exponent form: left to it.
        if (std::signbit(x) && x == 0) throw Bail();
        if (x != 0 && (magnitude < 1e-5 || magnitude >= 1e15)) throw Bail();
        auto result = std::to_chars(buffer, buffer + 64, x, std::chars_format::fixed);
        if (result.ec != std::errc()) throw Bail();
        out_->append(buffer, result.ptr - buffer);
        if (std::memchr(buffer, '.', result.ptr - buffer) == nullptr) out_->append(".0");
      }
    }
  }
  // Any value as it is (no policy, no checks), refusing duplicate keys.
  void raw(dom::element value, size_t depth) {
    if (depth > MAX_DEPTH) throw Bail();
    switch (value.type()) {
      case dom::element_type::OBJECT: {
        dom::object object = value.get_object();
        unique_keys(object);
        out_->push_back('{');
        bool first = true;
        for (auto field : object) {
          key(field.key, first);
          raw(field.value, depth + 1);
        }
        out_->push_back('}');
        return;
      }
      case dom::element_type::ARRAY: {
        out_->push_back('[');
        bool first = true;
        for (dom::element item : value.get_array()) {
          if (!first) out_->push_back(',');
          first = false;
          raw(item, depth + 1);
        }
        out_->push_back(']');
        return;
      }
      case dom::element_type::STRING: text(sv(value)); return;
      case dom::element_type::BOOL: out_->append(bool(value.get_bool()) ? "true" : "false"); return;
      case dom::element_type::NULL_VALUE: out_->append("null"); return;
      default: number(value);
    }
  }
  // Python keeps the last value of a repeated key at the first one's place: left to it.
  static void unique_keys(dom::object object) {
    if (object.size() < 2) return;
    Keys keys;
    for (auto field : object) keys.add(field.key);
  }
  // An object's keys so far, refusing a repeat (and more than 64 keys).
  struct Keys {
    string_view seen[64];
    size_t n = 0;
    uint64_t marks = 0;  // a bit per (length, first and last character): most keys differ
    void add(string_view k) {
      if (n == 64) throw Bail();
      uint64_t mark = k.empty() ? 1 : uint64_t(1) << ((k.size() * 7 + k[0] + k.back() * 3) & 63);
      if (marks & mark) {
        for (size_t i = 0; i < n; ++i)
          if (seen[i] == k) throw Bail();
      }
      marks |= mark;
      seen[n++] = k;
    }
  };

  // -- the walk (pseudonymise._Walk), emitting as it goes --
  // Where an object is: a resource's root (TOP), a contained resource's (CONTAINED), or
  // inside one (INNER). Only the top resource's id is pseudonymised: contained ids are local.
  enum Level { INNER, TOP, CONTAINED };

  struct Shape {
    bool display = false, reference = false, identifier = false, resource_type = false;
    bool contained_not_list = false;
  };
  // The keys the walk of an object looks for, read in the same pass that refuses repeats.
  static Shape shape(dom::object object) {
    Shape found;
    Keys keys;
    for (auto field : object) {
      string_view k = field.key;
      keys.add(k);
      switch (k.size()) {
        case 7:
          found.display |= k == "display";
          break;
        case 9:
          if (k == "reference")
            found.reference = true;
          else if (k == "contained")
            found.contained_not_list = !field.value.is_array();
          break;
        case 10:
          found.identifier |= k == "identifier";
          break;
        case 12:
          found.resource_type |= k == "resourceType";
          break;
      }
    }
    return found;
  }
  // Whether `display` goes (reference_display), given which keys a rule removes.
  bool drops_display(dom::object object, const Shape& found, const Node* node, bool under) {
    if (!redact_display_ || !found.display || !(found.reference || found.identifier)) return false;
    bool kept = false;
    for (auto field : object) {
      string_view k = field.key;
      if (k != "reference" && k != "identifier") continue;
      const Node* rule = nullptr;
      KeyInfo about = info(k);
      if (under) {
        rule = child_of(node, about);
        if (rule == nullptr) rule = anywhere_child(about);
      } else if (field.value.is_object() || field.value.is_array()) {
        rule = anywhere_child(about);
      }
      if (rule == nullptr || rule->action != Action::Redact) kept = true;
    }
    return kept;
  }
  // What both walks settle before the rules: a display that goes (one a rule would have walked
  // first is the Python path's, which may report it), and the top resource's own id.
  bool settled(string_view k, dom::element value, const Node* rule, bool drop_display,
               Level level, bool& first) {
    if (drop_display && k == "display") {
      if (rule != nullptr || !value.is_string()) throw Bail();
      return true;
    }
    if (level == TOP && k == "id") {
      key(k, first);
      text(own_id_);
      return true;
    }
    return false;
  }

  // Where the top resource's elements that the key columns read were written: their values'
  // offsets in the output, noted as each is written, so that the columns are read from these
  // few values rather than from the whole output parsed again.
  struct Written {
    TextWalk* walk;
    int slot;
    size_t start;
    Written(TextWalk* owner, int root_slot)
        : walk(owner),
          slot(root_slot >= 0 && ((owner->column_slots_ >> root_slot) & 1) ? root_slot : -1),
          start(owner->out_->size()) {}
    ~Written() {
      if (slot >= 0) walk->note(slot, start);
    }
  };
  void note(int slot, size_t start) {
    const string& out = *out_;
    size_t at = start;
    if (at >= out.size()) return;  // removed by a rule: not in the output
    if (out[at] == ',') ++at;
    for (++at; out[at] != '"'; ++at)  // the key, a JSON string
      if (out[at] == '\\') ++at;
    written_[slot] = {at + 2, out.size()};  // after `":`
    written_present_ |= uint64_t(1) << slot;
  }

  void under_rules(dom::object object, const Node* node, size_t depth, Level level) {
    Shape found = shape(object);
    if (level == INNER && found.resource_type) throw Bail();  // a resource inside the resource
    if (level != INNER && found.contained_not_list) throw Bail();
    if (node == nullptr || !node->has_children) {
      fields(object, found, depth, level);
      return;
    }
    if (depth > MAX_DEPTH) throw Bail();
    bool drop_display = drops_display(object, found, node, true);
    out_->push_back('{');
    bool first = true;
    for (auto field : object) {
      string_view k = field.key;
      dom::element value = field.value;
      KeyInfo about = info(k);
      Written written(this, level == TOP ? about.root : -1);
      const Node* child = child_of(node, about);
      if (child == nullptr) child = anywhere_child(about);
      if (settled(k, value, child, drop_display, level, first)) continue;
      if (watch_identifiers_ && k == "identifier" && value.is_object()) throw Bail();
      if (child == nullptr) {
        key(k, first);
        unruled(k, about, value, depth);
        continue;
      }
      if (child->action != Action::None || !child->by_url.empty()) {
        if (rule(k, value, child, depth, first)) continue;
      }
      key(k, first);
      ruled(k, value, child, depth);
    }
    out_->push_back('}');
  }

  // A value under a node with no action left to apply (or none at all).
  void ruled(string_view k, dom::element value, const Node* child, size_t depth) {
    if (value.is_object()) {
      under_rules(value.get_object(), child, depth + 1, INNER);
    } else if (value.is_array()) {
      items(k, value.get_array(), child, depth);
    } else {
      scalar(k, value);
    }
  }

  // A value under no rule in `under_rules` (the `child is None` branch).
  void unruled(string_view k, const KeyInfo& about, dom::element value, size_t depth) {
    switch (value.type()) {
      case dom::element_type::STRING: string_value(k, sv(value), about.kind); return;
      case dom::element_type::OBJECT: plain(value.get_object(), depth + 1); return;
      case dom::element_type::ARRAY: items(k, value.get_array(), nullptr, depth); return;
      default: scalar(k, value);
    }
  }

  void plain(dom::object object, size_t depth) {
    Shape found = shape(object);
    if (found.resource_type) throw Bail();
    fields(object, found, depth, INNER);
  }

  void fields(dom::object object, const Shape& found, size_t depth, Level level) {
    if (depth > MAX_DEPTH) throw Bail();
    bool drop_display = drops_display(object, found, nullptr, false);
    out_->push_back('{');
    bool first = true;
    for (auto field : object) {
      string_view k = field.key;
      dom::element value = field.value;
      auto type = value.type();
      bool container = type == dom::element_type::OBJECT || type == dom::element_type::ARRAY;
      KeyInfo about = info(k);
      Written written(this, level == TOP ? about.root : -1);
      const Node* rule = container ? anywhere_child(about) : nullptr;
      if (settled(k, value, rule, drop_display, level, first)) continue;
      if (type == dom::element_type::STRING) {
        key(k, first);
        string_value(k, sv(value), about.kind);
      } else if (type == dom::element_type::OBJECT) {
        if (watch_identifiers_ && k == "identifier") throw Bail();
        if (rule != nullptr) {
          anywhere(k, value, rule, depth, first);
        } else {
          key(k, first);
          plain(value.get_object(), depth + 1);
        }
      } else if (type == dom::element_type::ARRAY) {
        if (rule != nullptr) {
          anywhere(k, value, rule, depth, first);
        } else {
          key(k, first);
          if (k == "contained" || k == "coding" || about.kind != Kind::Nothing)
            items(k, value.get_array(), nullptr, depth);
          else
            dicts(value.get_array(), depth);
        }
      } else {
        if (about.kind == Kind::Reference || about.kind == Kind::Date) throw Bail();
        key(k, first);
        raw(value, depth);
      }
    }
    out_->push_back('}');
  }

  // A `**` rule on an object or a list (anywhere_rule).
  void anywhere(string_view k, dom::element value, const Node* node, size_t depth, bool& first) {
    if (node->action != Action::None || !node->by_url.empty()) {
      if (rule(k, value, node, depth, first)) return;
    }
    key(k, first);
    if (value.is_object())
      under_rules(value.get_object(), node, depth + 1, INNER);
    else
      items(k, value.get_array(), node, depth);
  }

  void dicts(dom::array values, size_t depth) {
    out_->push_back('[');
    bool first = true;
    for (dom::element item : values) {
      if (!first) out_->push_back(',');
      first = false;
      if (item.is_object())
        plain(item.get_object(), depth + 1);
      else if (item.is_array())
        throw Bail();
      else
        raw(item, depth);
    }
    out_->push_back(']');
  }

  // A contained resource, walked under its own type's rules (pseudonymise._Walk.contained).
  void contained(dom::element item, size_t depth) {
    dom::element type_value;
    if (!item.is_object() || item.get_object().at_key("resourceType").get(type_value) ||
        !type_value.is_string())
      throw Bail();
    string_view type_name = sv(type_value);
    if (!known_type(type_name) || type_name == "Bundle") throw Bail();
    under_rules(item.get_object(), tree(type_name), depth + 1, CONTAINED);
  }
  const Node* tree(string_view type_name) {
    auto found = roots_.find(string(type_name));
    return found == roots_.end() ? nullptr : found->second;
  }

  bool plain_coding(dom::object object) {
    for (auto field : object) {
      if (!info(field.key).coding_key) return false;
      auto type = field.value.type();
      if (type == dom::element_type::OBJECT || type == dom::element_type::ARRAY ||
          type == dom::element_type::NULL_VALUE)
        return false;
    }
    return true;
  }

  void items(string_view k, dom::array values, const Node* node, size_t depth) {
    out_->push_back('[');
    bool first = true;
    if (k == "contained") {
      for (dom::element item : values) {
        if (!first) out_->push_back(',');
        first = false;
        contained(item, depth);
      }
      out_->push_back(']');
      return;
    }
    if (k == "coding" && node == nullptr) {
      for (dom::element item : values) {
        if (!first) out_->push_back(',');
        first = false;
        if (!item.is_object()) throw Bail();
        dom::object coding = item.get_object();
        if (plain_coding(coding))
          raw(item, depth + 1);
        else
          under_rules(coding, nullptr, depth + 1, INNER);
      }
      out_->push_back(']');
      return;
    }
    KeyInfo about = info(k);
    bool dated = about.kind == Kind::Date && !about.code_list;
    bool with_rules = node != nullptr && node->has_children;
    for (dom::element item : values) {
      if (!first) out_->push_back(',');
      first = false;
      auto type = item.type();
      if (type == dom::element_type::OBJECT) {
        if (with_rules)
          under_rules(item.get_object(), node, depth + 1, INNER);
        else
          plain(item.get_object(), depth + 1);
      } else if (type == dom::element_type::ARRAY) {
        throw Bail();
      } else if (dated) {
        date(item);
      } else if (type == dom::element_type::STRING && about.reference_key) {
        refuse_bare_reference(sv(item));
        raw(item, depth);
      } else {
        raw(item, depth);
      }
    }
    out_->push_back(']');
  }

  // A text whose element name may make it a date or a reference (text, scalar).
  void string_value(string_view k, string_view value, Kind special) {
    if (special == Kind::Date) {
      if (!checked_shift(value, days_, shifted_)) throw Bail();
      text(shifted_);
      shifted_.clear();
    } else if (special == Kind::Reference) {
      reference(value);
    } else {
      if (special == Kind::NamedReference) refuse_bare_reference(value);
      text(value);
    }
  }
  void scalar(string_view k, dom::element value) {
    if (value.is_string()) {
      string_value(k, sv(value), kind(k));
      return;
    }
    if (k == "reference") throw Bail();
    if (kind(k) == Kind::Date) throw Bail();
    raw(value, 0);
  }
  void refuse_bare_reference(string_view value) {
    string_view type, id;
    if (relative_reference(value, type, id) && known_type(type)) throw Bail();
  }
  void date(dom::element value) {
    if (!value.is_string()) throw Bail();
    if (!checked_shift(sv(value), days_, shifted_)) throw Bail();
    text(shifted_);
    shifted_.clear();
  }

  // A reference's text: `#id` kept, `Type/id` rewritten, anything else to the Python path.
  void reference(string_view value) {
    if (!value.empty() && value[0] == '#') {
      text(value);
      return;
    }
    string_view type, id;
    if (!relative_reference(value, type, id)) throw Bail();
    if (!known_type(type)) throw Bail();
    string& rewritten = rewritten_;
    rewritten.assign(type);
    rewritten.push_back('/');
    rewritten.append(pseudonym(type, id));
    outcome_->references.push_back(rewritten);
    outcome_->reference_types.push_back(type.size());
    text(rewritten);
  }

  // A policy action on an element (rule); true when the element is done.
  bool rule(string_view k, dom::element value, const Node* node, size_t depth, bool& first) {
    if (!node->by_url.empty() && value.is_array()) {
      // Extensions by url. None left (all redacted, or an empty list): the element goes, as
      // in Python. All kept: as if no url were named.
      // Some: the Python walk still walks the removed ones (it may report them, and stages
      // their references), so the line is its to take; and any other action on them too.
      size_t count = 0, redacted = 0;
      for (dom::element item : value.get_array()) {
        ++count;
        Action action = Action::None;
        if (item.is_object()) {
          dom::element url;
          if (!item.get_object().at_key("url").get(url) && url.is_string()) {
            auto found = node->by_url.find(string(sv(url)));
            if (found != node->by_url.end()) action = found->second;
          }
        }
        if (action == Action::Redact)
          ++redacted;
        else if (action != Action::None && action != Action::Keep)
          throw Bail();
      }
      if (redacted == count) return true;
      if (redacted) throw Bail();
    }
    if (node->action == Action::None) return false;
    if (node->action == Action::Redact) return true;
    key(k, first);
    act(node->action, value, depth);
    return true;
  }
  void act(Action action, dom::element value, size_t depth) {
    if (action == Action::Keep) {
      raw(value, depth);
      return;
    }
    if (value.is_array()) {
      out_->push_back('[');
      bool first = true;
      for (dom::element item : value.get_array()) {
        if (!first) out_->push_back(',');
        first = false;
        act(action, item, depth + 1);
      }
      out_->push_back(']');
      return;
    }
    if (!value.is_string()) throw Bail();
    string_view textual = sv(value);
    if (action == Action::Generalize) {
      if (checked_shift(textual, 0, shifted_)) {
        shifted_.clear();
        text(textual.substr(0, 7));  // a valid date is ASCII
      } else {
        text(prefix(textual, 2));
      }
    } else if (action == Action::CryptoHash) {
      string message = "value|";
      message.append(textual);
      unsigned char mac[32];
      hmac(message.data(), message.size(), mac);
      text(hex16(mac));
    } else if (action == Action::DateShift) {
      date(value);
    } else {
      throw Bail();
    }
  }
  // The first `count` characters (code points, as Python slices) of a UTF-8 text.
  static string_view prefix(string_view value, size_t count) {
    size_t index = 0;
    while (index < value.size() && count > 0) {
      unsigned char c = static_cast<unsigned char>(value[index]);
      index += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
      --count;
    }
    return value.substr(0, index < value.size() ? index : value.size());
  }

  // The types a conditional reference may name across files (worker.INDEXED_TYPES: keep both
  // lists the same): the Python path stages the keyed hashes of their identifiers.
  static bool indexed_type(string_view type_name) {
    static const string_view types[] = {
        "Practitioner", "PractitionerRole", "Organization", "Location",
        "HealthcareService", "Endpoint", "Device", "Medication",
        "Substance", "RelatedPerson", "Group"};
    for (string_view each : types)
      if (type_name == each) return true;
    return false;
  }

  // -- one resource (Runner.process for an NDJSON line, first pass) --
  bool run(dom::element root, Outcome& out) {
    if (!root.is_object()) return false;
    dom::object resource = root.get_object();  // repeated keys: refused by the walk (shape)
    Root& read = root_;
    read_root(resource, read);
    if (!read.has(SLOT_TYPE) || !read.slots[SLOT_TYPE].is_string()) return false;
    string_view type_name = sv(read.slots[SLOT_TYPE]);
    if (!known_type(type_name) || type_name == "Bundle" || type_name == "Patient") return false;
    if (indexed_type(type_name)) return false;  // its identifiers are staged by Python
    if (!read.has(SLOT_ID) || !read.slots[SLOT_ID].is_string()) return false;
    string_view source_id = sv(read.slots[SLOT_ID]);
    if (!valid_id(source_id)) return false;
    if (read.has(SLOT_IDENTIFIER) && !read.slots[SLOT_IDENTIFIER].is_array()) return false;
    if (read.has(SLOT_CONTAINED) && !read.slots[SLOT_CONTAINED].is_array()) return false;
    out.type_index = resource_types_.find(type_name)->second;
    if (!patient_of(root, read, out.patient)) return false;
    out.has_patient = !out.patient.empty();
    days_ = out.has_patient ? shift_days(out.patient) : 0;
    scratch_.assign(type_name);
    scratch_.push_back('/');
    scratch_.append(source_id);
    own_id_ = digest(scratch_);
    out.id = own_id_;
    out_ = &out.data;
    outcome_ = &out;
    written_present_ = 0;
    under_rules(resource, tree(type_name), 0, TOP);
    key_columns(out);
    return true;
  }

  bool known_type(string_view type) const {
    return resource_types_.count(type) > 0;
  }

  static bool valid_id(string_view id) {
    if (id.empty() || id.size() > 64) return false;
    for (char c : id)
      if (!(is_letter(c) || ('0' <= c && c <= '9') || c == '-' || c == '.')) return false;
    return true;
  }

  // The patient's pseudonym in `patient` (empty: none); false for the Python path.
  bool patient_of(dom::element root, const Root& read, string& patient) {
    patient.clear();
    for (int slot : patient_keys_) {
      if (!read.has(slot) || !read.slots[slot].is_object()) continue;
      dom::element ref = read.slots[slot];
      dom::element reference;
      if (ref.get_object().at_key("reference").get(reference)) return false;  // logical
      if (!reference.is_string()) continue;
      int found = patient_target(sv(reference), patient);
      if (found < 0) return false;
      if (found > 0) return true;
    }
    return anywhere_patient(root, patient, 0) >= 0;
  }
  // 1 found (Patient), 0 not a patient, -1 for the Python path.
  int patient_target(string_view value, string& patient) {
    if (!value.empty() && value[0] == '#') return 0;
    string_view type, id;
    if (!relative_reference(value, type, id)) return -1;
    if (!known_type(type)) return -1;
    if (type != "Patient") return 0;
    patient = pseudonym(type, id);
    return 1;
  }
  int anywhere_patient(dom::element value, string& patient, size_t depth) {
    if (depth > MAX_DEPTH) return -1;
    if (value.is_array()) {
      for (dom::element item : value.get_array()) {
        int found = anywhere_patient(item, patient, depth + 1);
        if (found != 0) return found;
      }
    } else if (value.is_object()) {
      dom::object object = value.get_object();
      dom::element reference;
      if (!object.at_key("reference").get(reference) && reference.is_string()) {
        int found = patient_target(sv(reference), patient);
        if (found != 0) return found;
      }
      for (auto field : object) {
        if (field.value.is_object() || field.value.is_array()) {
          int found = anywhere_patient(field.value, patient, depth + 1);
          if (found != 0) return found;
        }
      }
    }
    return 0;
  }

  // One value of the output, as the key columns read it: a plain text as it is, else parsed.
  bool written_value(int slot, dom::element& value, string_view& plain) {
    if (!((written_present_ >> slot) & 1)) return false;
    auto [begin, end] = written_[slot];
    plain = string_view(out_->data() + begin, end - begin);
    if (plain.size() >= 2 && plain.front() == '"' && plain.find('\\') == string_view::npos) {
      plain = plain.substr(1, plain.size() - 2);
      return true;
    }
    plain = string_view();
    if (columns_.parse(out_->data() + begin, end - begin).get(value)) throw Bail();
    return true;
  }

  // effective_of and code_of, on the resource as written.
  void key_columns(Outcome& out) {
    for (const auto& [slot, below] : effective_paths_) {
      dom::element value;
      string_view plain;
      if (!written_value(slot, value, plain)) continue;
      if (plain.data() != nullptr) {
        if (!below.empty()) continue;  // a text where an object was looked into
        out.effective.assign(plain);
        out.has_effective = true;
        break;
      }
      if (value.is_null()) continue;
      if (!below.empty()) {
        dom::element inner;
        if (!value.is_object() || value.get_object().at_key(below).get(inner)) continue;
        value = inner;
      }
      if (value.is_string()) {
        out.effective.assign(sv(value));
        out.has_effective = true;
        break;
      }
    }
    for (int slot : code_keys_) {
      dom::element value;
      string_view plain;
      if (!written_value(slot, value, plain)) continue;
      if (plain.data() != nullptr) continue;  // a text: no code
      if (value.is_array()) {
        dom::array list = value.get_array();
        if (list.size() == 0) continue;
        value = list.at(0);
      }
      if (!value.is_object()) continue;
      dom::element codings;
      if (!value.get_object().at_key("coding").get(codings) && codings.is_array() &&
          codings.get_array().size() > 0)
        value = codings.get_array().at(0);
      dom::element code, system;
      if (value.is_object() && !value.get_object().at_key("code").get(code) && code.is_string()) {
        out.code.clear();
        if (!value.get_object().at_key("system").get(system) && system.is_string())
          out.code.assign(sv(system));
        out.code.push_back('|');
        out.code.append(sv(code));
        out.has_code = true;
        return;
      }
    }
  }

  bool date_shift_;
  long max_days_;
  bool redact_display_;
  bool watch_identifiers_;
  SHA256_CTX inner_, outer_;
  std::deque<Node> nodes_;
  std::unordered_map<string, const Node*> roots_;
  const Node* anywhere_ = nullptr;
  std::unordered_set<string> date_keys_, reference_keys_, code_lists_, coding_keys_;
  std::unordered_map<string_view, int> resource_types_;  // views of type_names_ -> rank
  std::deque<string> type_names_;
  std::unordered_map<string, int> rule_names_;
  KeyTable infos_;
  std::vector<string> date_suffixes_;
  std::vector<std::pair<int, string>> effective_paths_;  // (root slot, name below or "")
  std::vector<int> code_keys_, patient_keys_;  // root slots
  std::unordered_map<string, int> root_slots_;
  Root root_;
  uint64_t column_slots_ = 0;  // the root slots the key columns read
  std::pair<size_t, size_t> written_[64];
  uint64_t written_present_ = 0;
  static constexpr int SLOT_TYPE = 0, SLOT_ID = 1, SLOT_IDENTIFIER = 2, SLOT_CONTAINED = 3;
  Recent<4096, 32> pseudonyms_;
  string pseudonym_;
  Recent<4096, sizeof(long)> shifts_;  // patient pseudonym -> days
  dom::parser parser_, columns_;
  string scratch_, shifted_, own_id_, rewritten_;
  std::unordered_set<string> opted_;
  Recent<(1 << 17), 0> seen_;  // reference targets staged (13 MB)
  StagedTargets targets_;
  std::vector<Staged> staged_;
  string* out_ = nullptr;
  Outcome* outcome_ = nullptr;
  long days_ = 0;
};

}  // namespace campus
