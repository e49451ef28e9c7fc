// Copyright 2026 The libprusaconnect Authors.
//
// One connection of HttpServer: reading, parsing and dispatching requests in
// order (pipelining), writing responses (streamed bodies, throttling,
// lingering close) and the server's counters.
#include "emulator/http_server_impl.h"

namespace prusaconnect::emulator {

using internal::AppendSanitized;
using internal::kLingerTimeout;
using internal::kMaxBufferedWhileBusy;
using internal::kThrottleWindow;
using internal::StringBody;

// ---- Connections ----

HttpServer::Impl::Conn* HttpServer::Impl::Find(uint64_t id) {
  auto it = conns_.find(id);
  return it == conns_.end() ? nullptr : it->second.get();
}

void HttpServer::Impl::Schedule(Conn* c) {
  if (c->queued || c->in_pump) return;
  c->queued = true;
  pending_.push_back(c->id);
}

void HttpServer::Impl::Kill(Conn* c) {
  c->dead = true;
  Schedule(c);
}

void HttpServer::Impl::DrainPending() {
  while (!pending_.empty() && !stop_requested_) {
    std::vector<uint64_t> ids;
    ids.swap(pending_);
    for (uint64_t id : ids) {
      if (Conn* c = Find(id); c != nullptr) {
        c->queued = false;
        Pump(c);
      }
    }
  }
}

void HttpServer::Impl::Destroy(Conn* c) {
  if (c->wake_timer != 0) timers_.erase(c->wake_timer);
  if (c->reset_on_close) {
    linger lg{};
    lg.l_onoff = 1;
    lg.l_linger = 0;
    ::setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  }
  ::close(c->fd);  // Also removes it from the epoll set.
  connections_open_.fetch_sub(1, std::memory_order_relaxed);
  conns_.erase(c->id);
}

void HttpServer::Impl::Pump(Conn* c) {
  if (c->in_pump) return;
  c->in_pump = true;
  for (;;) {
    if (c->dead) break;
    bool progressed = false;
    switch (c->state) {
      case ConnState::kReading:
        // A pending "100 Continue" may still be in the output buffer.
        if (c->out_off < c->out.size()) progressed = WriteOut(c);
        if (c->dead) break;
        if (ParseAndDispatch(c)) {
          progressed = true;
        } else if (c->readable) {
          progressed = ReadSome(c);
        } else if (c->peer_eof) {
          Kill(c);  // EOF with no complete request left.
        }
        break;
      case ConnState::kHandling:
      case ConnState::kStalled:
        // Keep reading to notice the client giving up.
        if (c->readable && Buffered(c) < kMaxBufferedWhileBusy) progressed = ReadSome(c);
        if (c->peer_eof) Kill(c);
        break;
      case ConnState::kWriting:
        progressed = Flush(c);
        if (!progressed && !c->dead && c->readable && Buffered(c) < kMaxBufferedWhileBusy) {
          progressed = ReadSome(c);
          if (c->peer_eof) c->close_after_response = true;
        }
        break;
      case ConnState::kLingering:
        if (c->readable) progressed = ReadSome(c);
        if (c->peer_eof) Kill(c);
        break;
    }
    if (!progressed) break;
  }
  c->in_pump = false;
  if (c->dead) Destroy(c);
}

bool HttpServer::Impl::ReadSome(Conn* c) {
  bool any = false;
  while (c->readable) {
    ssize_t n = ::recv(c->fd, read_buf_.data(), read_buf_.size(), 0);
    if (n > 0) {
      bytes_received_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      c->last_activity = Clock::now();
      if (c->state != ConnState::kLingering) c->in.append(read_buf_.data(), static_cast<size_t>(n));
      any = true;
      // A short read drained the socket; edge-triggered epoll reports any
      // data arriving later as a new event.  A FIN that arrived with the
      // data is not reported again, so then keep reading until recv() says
      // EOF.
      if (static_cast<size_t>(n) < read_buf_.size() && !c->hup) c->readable = false;
      if (c->state != ConnState::kLingering && c->state != ConnState::kReading &&
          Buffered(c) >= kMaxBufferedWhileBusy) {
        break;  // Resume once the current request is done.
      }
      if (c->state == ConnState::kReading) break;  // Parse before reading more.
      continue;
    }
    if (n == 0) {
      c->peer_eof = true;
      c->readable = false;
      return true;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      c->readable = false;
      return any;
    }
    Kill(c);  // ECONNRESET and friends.
    return true;
  }
  return any;
}

bool HttpServer::Impl::ParseAndDispatch(Conn* c) {
  if (Buffered(c) == 0) return false;
  std::string_view data(c->in.data() + c->in_off, Buffered(c));
  size_t consumed = 0;
  RequestParser::Result result = c->parser.Parse(data, &consumed);
  c->in_off += consumed;
  if (c->in_off == c->in.size()) {
    c->in.clear();
    c->in_off = 0;
  } else if (c->in_off > 64 * 1024 && c->in_off > c->in.size() / 2) {
    c->in.erase(0, c->in_off);
    c->in_off = 0;
  }
  switch (result) {
    case RequestParser::Result::kNeedMore:
      if (c->parser.wants_continue() && !c->sent_continue) {
        c->sent_continue = true;
        c->out.append("HTTP/1.1 100 Continue\r\n\r\n");
        WriteOut(c);
        return true;
      }
      return consumed > 0;
    case RequestParser::Result::kError: {
      c->force_close = true;
      c->request = HttpRequest();
      HttpResponse r = HttpResponse::Text(c->parser.error_status(),
                                          absl::StrCat(c->parser.error_message(), "\n"));
      StartResponse(c, std::move(r));
      return true;
    }
    case RequestParser::Result::kComplete:
      break;
  }
  bool force_close = c->parser.force_close();
  c->request = c->parser.TakeRequest();
  c->request.connection_id = c->id;
  c->request.request_index = c->requests++;
  c->request.peer = c->peer;
  if (force_close) c->force_close = true;
  c->sent_continue = false;
  c->state = ConnState::kHandling;
  c->seq++;
  requests_.fetch_add(1, std::memory_order_relaxed);
  HttpResponder responder(std::make_shared<internal::ResponderState>(shared_, this, c->id, c->seq));
  handler_(c->request, std::move(responder));
  return true;
}

void HttpServer::Impl::Deliver(uint64_t conn_id, uint64_t seq, Action action) {
  Conn* c = Find(conn_id);
  if (c == nullptr || c->dead || c->state != ConnState::kHandling || c->seq != seq) return;
  switch (action.kind) {
    case ActionKind::kRespond:
      StartResponse(c, std::move(action.response));
      break;
    case ActionKind::kReset:
      c->reset_on_close = true;
      c->dead = true;
      break;
    case ActionKind::kClose:
      c->dead = true;
      break;
    case ActionKind::kHang:
      break;  // Stay in kHandling until the peer goes away.
  }
  Schedule(c);
}

void HttpServer::Impl::StartResponse(Conn* c, HttpResponse response) {
  const HttpRequest& req = c->request;
  const bool head = req.method == "HEAD";
  const int status = response.status;
  const bool no_body = (status >= 100 && status < 200) || status == 204 || status == 304;
  BodyFraming framing = response.framing;
  if (framing == BodyFraming::kChunked && req.http_minor == 0)
    framing = BodyFraming::kCloseDelimited;

  uint64_t body_len = response.body.size();
  uint64_t src_offset = 0;
  if (response.source) {
    uint64_t size = response.source->size();
    src_offset = std::min(response.source_offset, size);
    body_len = std::min(response.source_length.value_or(size - src_offset), size - src_offset);
  }
  bool keep = req.keep_alive && !response.close_connection && !c->force_close && !c->peer_eof &&
              !(framing == BodyFraming::kCloseDelimited && !no_body && !head);
  if (c->request.method.empty()) keep = false;  // Parse error: no request.

  std::string& out = c->out;
  if (c->out_off == out.size()) {
    out.clear();
    c->out_off = 0;
  }
  absl::StrAppend(&out, "HTTP/1.1 ", status, " ");
  AppendSanitized(
      &out, response.reason.empty() ? StatusReason(status) : std::string_view(response.reason));
  out.append("\r\n");
  for (const auto& [name, value] : response.headers) {
    if (EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding") ||
        EqualsIgnoreCase(name, "Connection")) {
      continue;
    }
    AppendSanitized(&out, name);
    out.append(": ");
    AppendSanitized(&out, value);
    out.append("\r\n");
  }
  if (!options_.server_name.empty()) {
    out.append("Server: ");
    AppendSanitized(&out, options_.server_name);
    out.append("\r\n");
  }
  if (!no_body) {
    if (framing == BodyFraming::kContentLength) {
      absl::StrAppend(&out, "Content-Length: ", body_len, "\r\n");
    } else if (framing == BodyFraming::kChunked) {
      out.append("Transfer-Encoding: chunked\r\n");
    }
  }
  if (!keep) {
    out.append("Connection: close\r\n");
  } else if (req.http_minor == 0) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");

  c->streaming = false;
  c->body_sent = 0;
  if (!head && !no_body) {
    const bool simple = !response.source && framing != BodyFraming::kChunked &&
                        response.throttle_bytes_per_sec == 0 &&
                        !response.stall_after_body_bytes.has_value() &&
                        !response.drop_after_body_bytes.has_value();
    if (simple) {
      out.append(response.body);
    } else {
      c->streaming = true;
      c->src = response.source ? std::move(response.source)
                               : std::make_shared<StringBody>(std::move(response.body));
      c->src_pos = src_offset;
      c->src_end = src_offset + body_len;
      c->chunked = framing == BodyFraming::kChunked;
      c->chunk_final_sent = false;
      c->stall_at = response.stall_after_body_bytes;
      c->drop_at = response.drop_after_body_bytes;
      c->throttle_bps = response.throttle_bytes_per_sec;
      c->window_start = Clock::now();
      c->window_bytes = 0;
    }
  }
  c->close_after_response = !keep;
  c->state = ConnState::kWriting;
  responses_.fetch_add(1, std::memory_order_relaxed);
}

bool HttpServer::Impl::WriteOut(Conn* c) {
  bool any = false;
  while (c->out_off < c->out.size() && c->writable) {
    ssize_t n = ::send(c->fd, c->out.data() + c->out_off, c->out.size() - c->out_off, MSG_NOSIGNAL);
    if (n > 0) {
      c->out_off += static_cast<size_t>(n);
      bytes_sent_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      c->last_activity = Clock::now();
      any = true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      c->writable = false;
      break;
    }
    Kill(c);  // EPIPE, ECONNRESET...
    return true;
  }
  if (c->out_off == c->out.size()) {
    c->out.clear();
    c->out_off = 0;
  }
  return any;
}

bool HttpServer::Impl::Flush(Conn* c) {
  bool progressed = false;
  for (;;) {
    if (c->out_off < c->out.size()) {
      progressed |= WriteOut(c);
      if (c->dead) return true;
      if (c->out_off < c->out.size()) return progressed;  // Wait for EPOLLOUT.
    }
    if (!c->streaming) {
      FinishResponse(c);
      return true;
    }
    if (c->src_pos >= c->src_end) {
      if (c->chunked && !c->chunk_final_sent) {
        c->chunk_final_sent = true;
        c->out.append("0\r\n\r\n");
        continue;
      }
      c->streaming = false;
      c->src.reset();
      continue;
    }
    uint64_t budget = c->src_end - c->src_pos;
    if (c->stall_at.has_value()) {
      if (c->body_sent >= *c->stall_at) {
        c->state = ConnState::kStalled;
        c->src.reset();
        c->streaming = false;
        return true;
      }
      budget = std::min(budget, *c->stall_at - c->body_sent);
    }
    if (c->drop_at.has_value()) {
      if (c->body_sent >= *c->drop_at) {
        Kill(c);
        return true;
      }
      budget = std::min(budget, *c->drop_at - c->body_sent);
    }
    if (c->throttle_bps > 0) {
      Clock::time_point now = Clock::now();
      if (now - c->window_start >= kThrottleWindow) {
        c->window_start = now;
        c->window_bytes = 0;
      }
      uint64_t per_window = std::max<uint64_t>(1, c->throttle_bps / 10);
      if (c->window_bytes >= per_window) {
        if (c->wake_timer == 0) {
          uint64_t id = c->id;
          TimerId timer = next_timer_id_.fetch_add(1);
          c->wake_timer = AddTimerInLoop(timer, c->window_start + kThrottleWindow, [this, id] {
            if (Conn* conn = Find(id); conn != nullptr) {
              conn->wake_timer = 0;
              Schedule(conn);
            }
          });
        }
        return progressed;
      }
      budget = std::min(budget, per_window - c->window_bytes);
    }
    if (!c->writable) return progressed;
    if (c->src->fd() >= 0 && !c->chunked) {
      off_t off = static_cast<off_t>(c->src_pos);
      size_t count = static_cast<size_t>(std::min<uint64_t>(budget, 1024 * 1024));
      ssize_t n = ::sendfile(c->fd, c->src->fd(), &off, count);
      if (n > 0) {
        c->src_pos += static_cast<uint64_t>(n);
        c->body_sent += static_cast<uint64_t>(n);
        c->window_bytes += static_cast<uint64_t>(n);
        bytes_sent_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
        c->last_activity = Clock::now();
        progressed = true;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        c->writable = false;
        return progressed;
      }
      Kill(c);  // Peer gone, or the file shrank (n == 0).
      return true;
    }
    size_t want = static_cast<size_t>(std::min<uint64_t>(budget, stream_buf_.size()));
    StatusOr<size_t> got = c->src->ReadAt(c->src_pos, stream_buf_.data(), want);
    if (!got.ok() || *got == 0) {
      Kill(c);
      return true;
    }
    size_t n = std::min(*got, want);
    if (c->chunked) {
      char hex[24];
      int len = std::snprintf(hex, sizeof(hex), "%zx\r\n", n);
      c->out.append(hex, static_cast<size_t>(len));
    }
    c->out.append(stream_buf_.data(), n);
    if (c->chunked) c->out.append("\r\n");
    c->src_pos += n;
    c->body_sent += n;
    c->window_bytes += n;
    progressed = true;
  }
}

void HttpServer::Impl::FinishResponse(Conn* c) {
  c->request = HttpRequest();
  if (c->close_after_response) {
    // Lingering close: send FIN, then discard input until the peer closes
    // (or a timeout), so unread pipelined bytes do not turn into an RST
    // that could destroy the response in flight.
    ::shutdown(c->fd, SHUT_WR);
    c->state = ConnState::kLingering;
    c->in.clear();
    c->in_off = 0;
    if (c->peer_eof) {
      Kill(c);
      return;
    }
    uint64_t id = c->id;
    c->wake_timer =
        AddTimerInLoop(next_timer_id_.fetch_add(1), Clock::now() + kLingerTimeout, [this, id] {
          if (Conn* conn = Find(id); conn != nullptr) {
            conn->wake_timer = 0;
            Kill(conn);
          }
        });
    return;
  }
  c->state = ConnState::kReading;
  c->last_activity = Clock::now();
}

HttpServerStats HttpServer::Impl::stats() const {
  HttpServerStats s;
  s.connections_accepted = connections_accepted_.load(std::memory_order_relaxed);
  s.connections_open = connections_open_.load(std::memory_order_relaxed);
  s.requests = requests_.load(std::memory_order_relaxed);
  s.responses = responses_.load(std::memory_order_relaxed);
  s.bytes_received = bytes_received_.load(std::memory_order_relaxed);
  s.bytes_sent = bytes_sent_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace prusaconnect::emulator
