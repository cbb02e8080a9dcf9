@testable import DevServer
import XCTest

/// The supervisor's worker lifecycle without processes: events in, actions out, one at a
/// time and in the overlapping pairs that used to live in the interplay of a dozen fields
/// (issue 12: a crash during a hand-over, a change during a build, a stop during a backoff).
final class WorkerLifecycleTests: XCTestCase {
    typealias Worker = WorkerLifecycle.Worker

    private var machine = WorkerLifecycle(hasBuild: false, shutdownGrace: 5, whatToChange: "app.so")
    private var now = 1_000_000

    /// Feeds `event` and returns its actions.
    @discardableResult
    private func feed(_ event: WorkerLifecycle.Event) -> [WorkerLifecycle.Action] { machine.handle(event) }

    private func spawned(_ actions: [WorkerLifecycle.Action]) -> [Worker] {
        actions.compactMap { if case .spawn(let worker, _) = $0 { return worker } else { return nil } }
    }

    private func accepted(_ actions: [WorkerLifecycle.Action]) -> [Worker] {
        actions.compactMap { if case .startAccepting(let worker, _) = $0 { return worker } else { return nil } }
    }

    private func killed(_ actions: [WorkerLifecycle.Action]) -> [Worker] {
        actions.compactMap { if case .kill(let worker, _) = $0 { return worker } else { return nil } }
    }

    /// Starts the first worker and lets it serve.
    private func serving() -> Worker {
        let first = spawned(feed(.start(now: now)))[0]
        XCTAssertEqual(accepted(feed(.ready(first, now: now))), [first])
        return first
    }

    /// A reload whose candidate is spawned, not yet ready.
    private func reloading(_ reason: String = "app.so changed") -> Worker {
        let actions = feed(.reloadRequested(reason: reason, now: now))
        return spawned(actions)[0]
    }

    private func exit(_ worker: Worker, inFlight: Bool = false, failure: String = "exited with status 1") -> [WorkerLifecycle.Action] {
        feed(.exited(worker, requestsInFlight: inFlight, failure: failure, now: now))
    }

    // MARK: One event at a time

    func testTheFirstWorkerIsSpawnedWithAFreshSnapshotAndAcceptsWhenReady() {
        let actions = feed(.start(now: now))
        guard case .spawn(let worker, newSnapshot: true)? = actions.first else { return XCTFail("\(actions)") }
        XCTAssertEqual(machine.phase, .starting(worker))
        XCTAssertEqual(feed(.ready(worker, now: now)), [.startAccepting(worker, announce: nil)])
        XCTAssertEqual(machine.phase, .serving(worker))
        XCTAssertTrue(machine.everReady)
    }

    func testAReloadStartsTheNextGenerationBesideTheOneServing() {
        let old = serving()
        let next = reloading()
        XCTAssertEqual(next.generation, 2)
        XCTAssertEqual(machine.role(of: next), .candidate)
        XCTAssertEqual(machine.role(of: old), .current, "the old generation serves until the new one is ready")
    }

    func testTheNewGenerationAcceptsOnlyOnceTheOldOneStoppedAccepting() {
        let old = serving()
        let next = reloading()
        let ready = feed(.ready(next, now: now))
        XCTAssertEqual(ready, [.terminate(old)])
        XCTAssertEqual(machine.role(of: old), .retiring)
        XCTAssertEqual(accepted(feed(.stoppedAccepting(old, now: now))), [next])
        XCTAssertEqual(machine.phase, .serving(next))
    }

    func testAnOldGenerationThatNeverSaysItStoppedIsGivenOneSecond() {
        let old = serving()
        let next = reloading()
        feed(.ready(next, now: now))
        XCTAssertEqual(accepted(feed(.tick(now: now + 999_000))), [])
        XCTAssertEqual(accepted(feed(.tick(now: now + 1_000_000))), [next])
        _ = old
    }

    func testTheReloadIsAnnouncedWithItsLatencyFromTheFileChange() {
        let old = serving()
        feed(.pluginChanged(reason: "app.so changed", now: now))
        let actions = feed(.tick(now: now + WorkerLifecycle.reloadDebounce))
        let next = spawned(actions)[0]
        feed(.ready(next, now: now + 40_000))
        let taken = feed(.stoppedAccepting(old, now: now + 41_000))
        XCTAssertEqual(taken, [.startAccepting(next, announce: "reloaded: generation 2 serves 41 ms after the file changed; the previous generation finishes its requests and exits")])
    }

    func testAFileChangeIsDebouncedIntoOneReload() {
        _ = serving()
        feed(.pluginChanged(reason: "app.so changed", now: now))
        feed(.pluginChanged(reason: "app.so changed", now: now + 5_000))
        XCTAssertEqual(spawned(feed(.tick(now: now + 15_000))), [], "the linker is still writing")
        XCTAssertEqual(spawned(feed(.tick(now: now + 20_000))).count, 1)
        XCTAssertEqual(spawned(feed(.tick(now: now + 40_000))), [])
    }

    func testARetiringWorkerIsKilledWhenItsGraceRunsOut() {
        let old = serving()
        let next = reloading()
        feed(.ready(next, now: now))
        XCTAssertEqual(killed(feed(.tick(now: now + 5_900_000))), [])
        XCTAssertEqual(feed(.tick(now: now + 6_000_000)), [.kill(old, .overdue)])
        XCTAssertEqual(feed(.tick(now: now + 7_000_000)), [], "killed once")
        XCTAssertEqual(exit(old), [], "a retiring worker's exit is not a crash")
    }

    func testACrashWhileServingReplacesTheWorkerAtOnceAndItsExitChangesNothingMore() {
        let worker = serving()
        let actions = feed(.crashReported(worker, now: now + 10_000_000))
        XCTAssertEqual(spawned(actions).map(\.generation), [1], "the same generation restarts, from its snapshot")
        XCTAssertEqual(actions.last, .spawn(spawned(actions)[0], newSnapshot: false))
        XCTAssertEqual(machine.role(of: worker), .dying)
        XCTAssertEqual(exit(worker, inFlight: true), [], "the replacement already started")
        XCTAssertEqual(machine.startupFailures, 0)
    }

    func testAWorkerThatDiesOnStartUpIsRestartedWithABackoffThatGrows() {
        var worker = spawned(feed(.start(now: now)))[0]
        var delays: [String] = []
        for _ in 0..<4 {
            let actions = exit(worker)
            delays += actions.compactMap { if case .info(let text) = $0 { return text } else { return nil } }
            guard case .backingOff(let until, _) = machine.phase else { return XCTFail("\(machine.phase)") }
            XCTAssertEqual(spawned(feed(.tick(now: until - 1))), [])
            worker = spawned(feed(.tick(now: until)))[0]
        }
        XCTAssertEqual(delays, ["restarting in 100 ms", "restarting in 200 ms", "restarting in 400 ms", "restarting in 800 ms"])
        XCTAssertEqual(exit(worker), [.error("the application keeps failing to start: waiting for app.so to change")])
        XCTAssertEqual(machine.phase, .waitingForChange)
    }

    func testAFirstGenerationThatCannotLoadStopsDevserve() {
        let worker = spawned(feed(.start(now: now)))[0]
        XCTAssertEqual(feed(.loadFailed(worker, reason: "app.so: not an ELF file", now: now)), [.error("cannot load app.so: not an ELF file")])
        XCTAssertEqual(exit(worker), [.exit(code: 1)])
    }

    func testACandidateThatCannotLoadLeavesTheOldGenerationServingAndMarksItStale() {
        let old = serving()
        let next = reloading()
        let actions = feed(.loadFailed(next, reason: "undefined symbol", now: now))
        XCTAssertEqual(actions, [
            .error("generation 2 cannot serve: undefined symbol"),
            .error("STALE BUILD: still serving generation 1; the next change tries again"),
        ])
        XCTAssertEqual(machine.stale, "generation 2 failed: undefined symbol")
        XCTAssertEqual(machine.phase, .serving(old))
        XCTAssertEqual(feed(.tick(now: now + 5_500_000)), [], "a failed candidate gets the grace from its failure to exit, not an overdue kill")
        XCTAssertEqual(exit(next), [], "its exit after the failure is quiet")
        let fixed = reloading()
        feed(.ready(fixed, now: now))
        XCTAssertNil(machine.stale, "a generation that serves is not stale")
    }

    func testASourceChangeBuildsOnceAndAChangeDuringTheBuildQueuesExactlyOneMore() {
        machine = WorkerLifecycle(hasBuild: true, shutdownGrace: 5, whatToChange: "app.so")
        _ = serving()
        feed(.sourcesChanged(summary: "a.swift", now: now))
        XCTAssertEqual(feed(.tick(now: now + WorkerLifecycle.buildDebounce)), [.startBuild])
        XCTAssertEqual(feed(.sourcesChanged(summary: "b.swift", now: now + 200_000)), [.info("b.swift changed: another build will follow this one")])
        feed(.sourcesChanged(summary: "c.swift", now: now + 300_000))
        feed(.buildFinished(succeeded: true, why: "", now: now + 400_000))
        XCTAssertEqual(feed(.tick(now: now + 400_000)), [.startBuild], "one more build for both changes")
        feed(.buildFinished(succeeded: false, why: "failed with status 1", now: now + 500_000))
        XCTAssertEqual(feed(.tick(now: now + 600_000)), [])
        XCTAssertEqual(machine.stale, "the last build failed with status 1")
    }

    func testStopTerminatesEveryWorkerThenKillsThemAtTheDeadlineAndASecondStopKillsAtOnce() {
        let old = serving()
        let next = reloading()
        XCTAssertEqual(feed(.stop(now: now)), [.terminate(old), .terminate(next)])
        XCTAssertEqual(feed(.reloadRequested(reason: "late", now: now)), [], "nothing starts while stopping")
        XCTAssertEqual(killed(feed(.tick(now: now + 6_999_999))), [])
        XCTAssertEqual(killed(feed(.tick(now: now + 7_000_000))), [old, next])
        XCTAssertEqual(feed(.stop(now: now + 7_100_000)), [.info("stopping now"), .kill(old, .stopping), .kill(next, .stopping)])
        XCTAssertEqual(exit(old), [])
    }

    // MARK: Overlapping events

    func testACrashDuringAHandOverRestartsTheNewGenerationAndTheOldOneStillRetires() {
        let old = serving()
        let next = reloading()
        feed(.ready(next, now: now))
        let actions = feed(.crashReported(next, now: now + 3_000_000))
        let restarted = spawned(actions)
        XCTAssertEqual(restarted.map(\.generation), [2], "the new generation, not the old one, is restarted")
        XCTAssertEqual(machine.role(of: old), .retiring)
        XCTAssertEqual(exit(old), [], "the old generation's exit starts nothing: no second accepting worker")
        XCTAssertEqual(accepted(feed(.ready(restarted[0], now: now))), [restarted[0]])
        XCTAssertEqual(exit(next, inFlight: true), [])
        XCTAssertEqual(machine.phase, .serving(restarted[0]))
    }

    func testAReloadDuringAReloadKillsTheFirstCandidateSoOnlyTheNewestTakesOver() {
        let old = serving()
        let first = reloading()
        let actions = feed(.reloadRequested(reason: "app.so changed again", now: now))
        XCTAssertEqual(actions.first, .kill(first, .superseded))
        let second = spawned(actions)[0]
        XCTAssertEqual(exit(first), [], "the superseded candidate's death is not a failure")
        XCTAssertNil(machine.stale)
        feed(.ready(second, now: now))
        XCTAssertEqual(accepted(feed(.stoppedAccepting(old, now: now))), [second])
    }

    func testACandidateReadyWhileAnotherWaitsToTakeOverRetiresTheOneThatNeverAccepted() {
        let old = serving()
        let second = reloading()
        feed(.ready(second, now: now))
        let third = reloading()
        XCTAssertEqual(feed(.ready(third, now: now)), [.terminate(second)])
        XCTAssertEqual(accepted(feed(.stoppedAccepting(old, now: now))), [third], "one accepting worker, the newest")
    }

    func testAStopDuringARestartBackoffCancelsTheRestart() {
        let worker = spawned(feed(.start(now: now)))[0]
        exit(worker)
        guard case .backingOff(let until, _) = machine.phase else { return XCTFail("\(machine.phase)") }
        XCTAssertEqual(feed(.stop(now: now)), [])
        XCTAssertEqual(spawned(feed(.tick(now: until))), [], "no worker starts after the stop")
    }

    func testAReloadDuringARestartBackoffReplacesTheRestart() {
        let worker = spawned(feed(.start(now: now)))[0]
        exit(worker)
        guard case .backingOff(let until, _) = machine.phase else { return XCTFail("\(machine.phase)") }
        let next = reloading()
        XCTAssertEqual(spawned(feed(.tick(now: until))), [], "the backoff's restart is forgotten")
        XCTAssertEqual(accepted(feed(.ready(next, now: until))), [next])
        XCTAssertEqual(machine.backingOffGeneration, nil)
    }

    func testAChangeWhileWaitingForAFixStartsOneGenerationThatServesAtOnce() {
        let worker = serving()
        let restarted = spawned(feed(.crashReported(worker, now: now + 3_000_000)))[0]
        feed(.loadFailed(restarted, reason: "init failed", now: now))
        XCTAssertEqual(exit(restarted), [.error("the application keeps failing to start: waiting for app.so to change")])
        XCTAssertEqual(machine.phase, .waitingForChange)
        feed(.pluginChanged(reason: "app.so changed", now: now))
        let next = spawned(feed(.tick(now: now + WorkerLifecycle.reloadDebounce)))
        XCTAssertEqual(next.count, 1)
        XCTAssertEqual(accepted(feed(.ready(next[0], now: now))), next)
    }

    func testACrashOfTheServingWorkerWhileACandidateStartsLeavesTheSlotToTheCandidate() {
        let old = serving()
        let next = reloading()
        let actions = feed(.crashReported(old, now: now + 3_000_000))
        XCTAssertEqual(spawned(actions), [], "no restart of the old generation: the new one takes over")
        XCTAssertTrue(actions.contains(.info("a newer generation is starting: it takes over")))
        XCTAssertEqual(accepted(feed(.ready(next, now: now))), [next])
    }

    func testAStopDuringABuildTerminatesTheBuildAndAQueuedBuildNeverRuns() {
        machine = WorkerLifecycle(hasBuild: true, shutdownGrace: 5, whatToChange: "app.so")
        let worker = serving()
        feed(.sourcesChanged(summary: "a.swift", now: now))
        feed(.tick(now: now + WorkerLifecycle.buildDebounce))
        feed(.sourcesChanged(summary: "b.swift", now: now + 200_000))
        XCTAssertEqual(feed(.stop(now: now + 300_000)), [.terminate(worker), .terminateBuild])
        feed(.buildFinished(succeeded: false, why: "was killed by SIGTERM", now: now + 400_000))
        XCTAssertEqual(feed(.tick(now: now + 500_000)), [])
    }

    func testAWorkerThatStopsAnsweringIsStuckUntilItAnswersAgain() {
        let worker = serving()
        feed(.heartbeatMissed(worker))
        XCTAssertTrue(machine.silent.contains(worker))
        feed(.answering(worker))
        XCTAssertFalse(machine.silent.contains(worker))
    }

    func testACrashStormKillsTheOldestCrashedWorkersBeyondEightWaitingForBacktraces() {
        var worker = serving()
        var crashed: [Worker] = []
        var killedAt: [Int: [Worker]] = [:]
        for round in 0..<10 {
            let actions = feed(.crashReported(worker, now: now + round))
            crashed.append(worker)
            killedAt[round] = killed(actions)
            worker = spawned(actions)[0]
            feed(.ready(worker, now: now + round))
        }
        XCTAssertEqual((0..<8).flatMap { killedAt[$0] ?? [] }, [], "up to eight wait for their backtraces")
        XCTAssertEqual(killedAt[8], [crashed[0]], "the ninth crash kills the oldest")
        XCTAssertEqual(killedAt[9], [crashed[1]], "once each")
        XCTAssertEqual(exit(crashed[0], inFlight: true), [])
    }
}
