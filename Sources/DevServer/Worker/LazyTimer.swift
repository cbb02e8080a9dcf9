import NIOCore

/// A timeout on one event loop that is re-armed without scheduling anything (issue 14: the
/// head and idle timers were scheduled and cancelled once per request, 5-7% of a hello
/// request's CPU).
///
/// `arm` only records the deadline when a task already fires at or before it; the task, when
/// it fires, runs `fire` if the deadline it finds has passed, re-schedules itself for a later
/// one, or does nothing when `disarm` cleared it. So a keep-alive connection's timers schedule
/// one task per timeout period, not one per request; only a deadline earlier than the one
/// scheduled (rare: a shorter timeout) cancels and schedules.
///
/// Event loop only.
final class LazyTimer {
    private let eventLoop: EventLoop
    private var fire: (() -> Void)?
    private var deadline: NIODeadline?
    private var scheduledFor: NIODeadline?
    private var task: Scheduled<Void>?

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Runs `fire` after `timeout` unless disarmed or re-armed first.
    func arm(in timeout: TimeAmount, _ fire: @escaping () -> Void) {
        let deadline = eventLoop.now + timeout
        self.fire = fire
        self.deadline = deadline
        if let scheduledFor, scheduledFor <= deadline { return }
        task?.cancel()
        schedule(deadline)
    }

    func disarm() {
        deadline = nil
        fire = nil
    }

    var isArmed: Bool { deadline != nil }

    /// Cancels the scheduled task too (the connection is gone).
    func cancel() {
        disarm()
        task?.cancel()
        task = nil
        scheduledFor = nil
    }

    private func schedule(_ at: NIODeadline) {
        scheduledFor = at
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        task = eventLoop.scheduleTask(deadline: at) {
            let timer = bound.value
            timer.task = nil
            timer.scheduledFor = nil
            guard let deadline = timer.deadline else { return }
            if deadline <= timer.eventLoop.now {
                let fire = timer.fire
                timer.disarm()
                fire?()
            } else {
                timer.schedule(deadline)
            }
        }
    }
}
