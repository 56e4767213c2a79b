// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title FABRIC's escrow: an atomic swap of a buyer's payment for a seller's asset.
/// @notice A deal holds the buyer's payment (the native coin or an ERC-20) and, for a swap,
/// the seller's asset (an ERC-721 token, or the ownership of an Ownable / Ownable2Step
/// contract). One `settle` sends the payment to the seller, less the platform fee fixed
/// when the deal was created, and the asset to the buyer. Release needs both parties'
/// approval or the arbiter's; a dispute leaves the decision to the arbiter alone (without
/// an arbiter, to both parties together). After the deadline, unless the deal was settled
/// or an arbiter holds a dispute, each party withdraws what it put in.
/// @dev Every state-changing entry point is `nonReentrant` and writes its state before any
/// external call. The arbiter is fixed at deployment (a multisig in production, never the
/// platform's deploying key); the owner only sets the fee of deals created afterwards,
/// capped at MAX_FEE_BPS.
contract FabrkntEscrow is Ownable2Step, ReentrancyGuard {
    using SafeERC20 for IERC20;

    enum AssetKind {
        None, // the deal escrows the payment alone
        ERC721,
        Ownable, // one-step transferOwnership: reserve the asset before handing it over
        Ownable2Step // the escrow accepts the pending ownership itself
    }

    enum State {
        Pending, // created; deposits incomplete
        Funded, // the payment and (for a swap) the asset are held
        Released, // settled: payment to the seller, asset to the buyer
        Refunded // refunded by the arbiter / both parties, or withdrawn after the deadline
    }

    struct Terms {
        bytes32 ref; // the platform's reference for the deal (its EscrowTransaction)
        address buyer;
        address seller;
        address paymentToken; // address(0): the native coin
        uint256 amount;
        AssetKind assetKind;
        address assetContract;
        uint256 tokenId; // ERC721 only
        uint64 deadline; // unix seconds
    }

    /// Seven storage slots, packed: a deal's creation writes at most these.
    struct Deal {
        address buyer;
        uint64 deadline; // unix seconds
        uint16 feeBps;
        AssetKind assetKind;
        State state;
        address seller;
        bool paymentHeld;
        bool assetHeld;
        bool buyerApproved;
        bool sellerApproved;
        bool buyerRefundApproved;
        bool sellerRefundApproved;
        bool disputed;
        address paymentToken; // address(0): the native coin
        uint256 amount;
        address assetContract;
        uint256 tokenId;
        address feeRecipient;
    }

    uint16 public constant MAX_FEE_BPS = 1000; // 10%
    uint16 private constant BPS = 10_000;

    /// Decides disputes, and may settle or refund any deal (address(0): no arbiter).
    address public immutable arbiter;
    uint16 public feeBps;
    address public feeRecipient;
    uint256 public dealCount;

    mapping(uint256 dealId => Deal) private _deals;
    /// The open deal an asset is reserved for or held by (0: none); keyed by assetKey().
    mapping(bytes32 assetKey => uint256 dealId) public assetDeal;
    /// The deal opened for a platform reference between two parties: a creation sent again
    /// (a second click, a wallet's retry) must not open, and take payment for, a second deal.
    /// Keyed by the parties too, so no one else can take a reference first.
    mapping(bytes32 refKey => uint256 dealId) private _dealOfRef;

    event DealCreated(
        uint256 indexed dealId,
        bytes32 indexed ref,
        address indexed buyer,
        address seller,
        address paymentToken,
        uint256 amount,
        AssetKind assetKind,
        address assetContract,
        uint256 tokenId,
        uint64 deadline,
        address arbiter,
        uint16 feeBps,
        address feeRecipient
    );
    event PaymentDeposited(uint256 indexed dealId, address indexed buyer, address paymentToken, uint256 amount);
    event AssetReserved(uint256 indexed dealId, address indexed seller, address assetContract, uint256 tokenId);
    event AssetDeposited(
        uint256 indexed dealId, address indexed seller, AssetKind assetKind, address assetContract, uint256 tokenId
    );
    event Funded(uint256 indexed dealId);
    event Approved(uint256 indexed dealId, address indexed party);
    event RefundApproved(uint256 indexed dealId, address indexed party);
    event Disputed(uint256 indexed dealId, address indexed party);
    event Settled(
        uint256 indexed dealId,
        address indexed by,
        address seller,
        uint256 sellerAmount,
        address buyer,
        address feeRecipient,
        uint256 fee
    );
    event Refunded(uint256 indexed dealId, address indexed by, uint256 payment, bool asset);
    event Withdrawn(uint256 indexed dealId, address indexed party, uint256 payment, bool asset);
    event FeeChanged(uint16 feeBps, address feeRecipient);

    error InvalidTerms();
    error UnknownDeal(uint256 dealId);
    error NotAParty();
    error NotAllowed();
    error WrongState(State state);
    error AlreadyDone();
    error WrongPayment();
    error AssetUnavailable();
    error AssetNotHandedOver();
    error NotYetDue();
    error Expired();
    error Disputes();
    error NothingToWithdraw();
    error NativeTransferFailed();
    error FeeTooHigh();
    error DuplicateDeal(uint256 dealId);

    constructor(address initialOwner, address arbiter_, address feeRecipient_, uint16 feeBps_)
        Ownable(initialOwner)
    {
        arbiter = arbiter_;
        _setFee(feeBps_, feeRecipient_);
    }

    // ---- settings --------------------------------------------------------------------

    /// @notice The fee of deals created from now on; open deals keep theirs.
    function setFee(uint16 feeBps_, address feeRecipient_) external onlyOwner {
        _setFee(feeBps_, feeRecipient_);
    }

    function _setFee(uint16 feeBps_, address feeRecipient_) private {
        if (feeBps_ > MAX_FEE_BPS) revert FeeTooHigh();
        if (feeBps_ > 0 && feeRecipient_ == address(0)) revert InvalidTerms();
        feeBps = feeBps_;
        feeRecipient = feeRecipient_;
        emit FeeChanged(feeBps_, feeRecipient_);
    }

    // ---- reads -----------------------------------------------------------------------

    function deal(uint256 dealId) external view returns (Deal memory) {
        return _existing(dealId);
    }

    function assetKey(AssetKind kind, address assetContract, uint256 tokenId) public pure returns (bytes32) {
        // An Ownable contract is one asset whatever the token id.
        uint256 id = kind == AssetKind.ERC721 ? tokenId : 0;
        return keccak256(abi.encode(assetContract, id));
    }

    // ---- the deal's steps ------------------------------------------------------------

    /// @notice Opens a deal; only its buyer or seller may.
    function createDeal(Terms calldata terms) external nonReentrant returns (uint256 dealId) {
        if (msg.sender != terms.buyer && msg.sender != terms.seller) revert NotAParty();
        dealId = _create(terms);
    }

    /// @notice The buyer opens the deal and deposits its payment in one transaction: the
    /// value for the native coin (msg.value must be the amount), or the ERC-20 pulled as
    /// `depositPayment` does (approve the escrow first).
    function createDealAndDeposit(Terms calldata terms) external payable nonReentrant returns (uint256 dealId) {
        if (msg.sender != terms.buyer) revert NotAParty();
        dealId = _create(terms);
        _deposit(dealId, _deals[dealId]);
    }

    /// @notice The buyer deposits the payment: msg.value for the native coin; for an
    /// ERC-20, the escrow pulls `amount` (approve it first). Tokens that deliver less than
    /// they are asked to move (fee on transfer) are refused.
    function depositPayment(uint256 dealId) external payable nonReentrant {
        Deal storage d = _open(dealId);
        if (msg.sender != d.buyer) revert NotAParty();
        if (d.paymentHeld) revert AlreadyDone();
        if (block.timestamp > d.deadline) revert Expired();
        _deposit(dealId, d);
    }

    /// @notice For an Ownable asset, the seller first reserves it for this deal (while it
    /// still owns it), then calls `transferOwnership(escrow)`, then `depositAsset`: so no
    /// one else can claim an ownership that reached the escrow. Optional for other kinds.
    function reserveAsset(uint256 dealId) external nonReentrant {
        Deal storage d = _open(dealId);
        if (msg.sender != d.seller) revert NotAParty();
        if (d.assetKind == AssetKind.None) revert InvalidTerms();
        if (block.timestamp > d.deadline) revert Expired();
        bytes32 key = assetKey(d.assetKind, d.assetContract, d.tokenId);
        uint256 holder = _liveHolder(key);
        if (holder == dealId) revert AlreadyDone();
        if (holder != 0 || _currentOwner(d) != d.seller) revert AssetUnavailable();
        assetDeal[key] = dealId;
        emit AssetReserved(dealId, d.seller, d.assetContract, d.tokenId);
    }

    /// @notice The seller deposits the asset. ERC721: the escrow pulls the token (approve
    /// it first). Ownable: ownership must already be the escrow's, reserved for this deal.
    /// Ownable2Step: the seller must still own it with the escrow as pending owner; the
    /// escrow accepts.
    function depositAsset(uint256 dealId) external nonReentrant {
        Deal storage d = _open(dealId);
        if (msg.sender != d.seller) revert NotAParty();
        if (d.assetKind == AssetKind.None) revert InvalidTerms();
        if (d.assetHeld) revert AlreadyDone();
        if (block.timestamp > d.deadline) revert Expired();
        bytes32 key = assetKey(d.assetKind, d.assetContract, d.tokenId);
        uint256 holder = _liveHolder(key);
        if (holder != 0 && holder != dealId) revert AssetUnavailable();

        d.assetHeld = true;
        assetDeal[key] = dealId;
        emit AssetDeposited(dealId, d.seller, d.assetKind, d.assetContract, d.tokenId);
        if (d.paymentHeld) _fund(dealId, d);

        if (d.assetKind == AssetKind.ERC721) {
            IERC721(d.assetContract).transferFrom(d.seller, address(this), d.tokenId);
        } else if (d.assetKind == AssetKind.Ownable) {
            if (holder != dealId) revert AssetUnavailable(); // not reserved before handing over
        } else {
            Ownable2Step target = Ownable2Step(d.assetContract);
            if (target.owner() != d.seller || target.pendingOwner() != address(this)) revert AssetNotHandedOver();
            target.acceptOwnership();
        }
        if (_currentOwner(d) != address(this)) revert AssetNotHandedOver();
    }

    /// @notice A party approves the release of a funded deal.
    function approve(uint256 dealId) external nonReentrant {
        Deal storage d = _existing(dealId);
        if (d.state != State.Funded) revert WrongState(d.state);
        if (msg.sender == d.buyer) {
            if (d.buyerApproved) revert AlreadyDone();
            d.buyerApproved = true;
        } else if (msg.sender == d.seller) {
            if (d.sellerApproved) revert AlreadyDone();
            d.sellerApproved = true;
        } else {
            revert NotAParty();
        }
        emit Approved(dealId, msg.sender);
    }

    /// @notice A party agrees to call the deal off (both must, or the arbiter refunds).
    function approveRefund(uint256 dealId) external nonReentrant {
        Deal storage d = _open(dealId);
        if (msg.sender == d.buyer) {
            if (d.buyerRefundApproved) revert AlreadyDone();
            d.buyerRefundApproved = true;
        } else if (msg.sender == d.seller) {
            if (d.sellerRefundApproved) revert AlreadyDone();
            d.sellerRefundApproved = true;
        } else {
            revert NotAParty();
        }
        emit RefundApproved(dealId, msg.sender);
    }

    /// @notice A party opens a dispute before release: from then on only the arbiter
    /// settles or refunds (without an arbiter, both parties must still agree).
    function dispute(uint256 dealId) external nonReentrant {
        Deal storage d = _open(dealId);
        if (msg.sender != d.buyer && msg.sender != d.seller) revert NotAParty();
        if (d.disputed) revert AlreadyDone();
        d.disputed = true;
        emit Disputed(dealId, msg.sender);
    }

    /// @notice The swap: payment (less the fee) to the seller, asset to the buyer, in this
    /// one call. By the arbiter, or by anyone once both parties approved (and no dispute
    /// waits for the arbiter).
    function settle(uint256 dealId) external nonReentrant {
        Deal storage d = _existing(dealId);
        if (d.state != State.Funded) revert WrongState(d.state);
        bool byArbiter = arbiter != address(0) && msg.sender == arbiter;
        if (!byArbiter) {
            if (!d.buyerApproved || !d.sellerApproved) revert NotAllowed();
            if (d.disputed && arbiter != address(0)) revert Disputes();
        }
        d.state = State.Released;
        d.paymentHeld = false;
        d.assetHeld = false;
        _releaseAsset(dealId, d);
        uint256 fee = (d.amount * d.feeBps) / BPS;
        uint256 sellerAmount = d.amount - fee;
        emit Settled(dealId, msg.sender, d.seller, sellerAmount, d.buyer, d.feeRecipient, fee);

        _pay(d.paymentToken, d.seller, sellerAmount);
        if (fee > 0) _pay(d.paymentToken, d.feeRecipient, fee);
        if (d.assetKind == AssetKind.ERC721) {
            IERC721(d.assetContract).safeTransferFrom(address(this), d.buyer, d.tokenId);
        } else if (d.assetKind != AssetKind.None) {
            Ownable(d.assetContract).transferOwnership(d.buyer); // Ownable2Step: the buyer accepts
        }
    }

    /// @notice Calls the deal off before release: the payment back to the buyer, the asset
    /// back to the seller. By the arbiter, or by anyone once both parties approved a refund
    /// (and no dispute waits for the arbiter).
    function refund(uint256 dealId) external nonReentrant {
        Deal storage d = _open(dealId);
        bool byArbiter = arbiter != address(0) && msg.sender == arbiter;
        if (!byArbiter) {
            if (!d.buyerRefundApproved || !d.sellerRefundApproved) revert NotAllowed();
            if (d.disputed && arbiter != address(0)) revert Disputes();
        }
        bool payment = d.paymentHeld;
        bool asset = _assetInEscrow(dealId, d);
        d.state = State.Refunded;
        d.paymentHeld = false;
        d.assetHeld = false;
        _releaseAsset(dealId, d);
        emit Refunded(dealId, msg.sender, payment ? d.amount : 0, asset);

        if (payment) _pay(d.paymentToken, d.buyer, d.amount);
        if (asset) _returnAsset(d);
    }

    /// @notice After the deadline, a party takes back what it put in (unless the deal was
    /// settled, or an arbiter holds a dispute). The deal is then over: the other party
    /// can still withdraw its own deposit, nothing else.
    function withdraw(uint256 dealId) external nonReentrant {
        Deal storage d = _existing(dealId);
        if (d.state == State.Released) revert WrongState(d.state);
        if (block.timestamp <= d.deadline) revert NotYetDue();
        if (d.disputed && arbiter != address(0)) revert Disputes();
        uint256 payment;
        bool asset;
        if (msg.sender == d.buyer) {
            if (!d.paymentHeld) revert NothingToWithdraw();
            d.paymentHeld = false;
            payment = d.amount;
        } else if (msg.sender == d.seller) {
            if (!_assetInEscrow(dealId, d)) revert NothingToWithdraw();
            d.assetHeld = false;
            asset = true;
        } else {
            revert NotAParty();
        }
        d.state = State.Refunded;
        // The reservation goes with the asset: kept while the escrow still has it to return.
        if (asset || !_assetInEscrow(dealId, d)) _releaseAsset(dealId, d);
        emit Withdrawn(dealId, msg.sender, payment, asset);

        if (payment > 0) _pay(d.paymentToken, d.buyer, payment);
        if (asset) _returnAsset(d);
    }

    // ---- internals -------------------------------------------------------------------

    function _create(Terms calldata terms) private returns (uint256 dealId) {
        if (
            terms.buyer == address(0) || terms.seller == address(0) || terms.buyer == terms.seller
                || terms.buyer == arbiter || terms.seller == arbiter || terms.amount == 0
                || terms.deadline <= block.timestamp
        ) revert InvalidTerms();
        if ((terms.assetKind == AssetKind.None) != (terms.assetContract == address(0))) revert InvalidTerms();
        if (terms.assetKind != AssetKind.ERC721 && terms.tokenId != 0) revert InvalidTerms();

        dealId = ++dealCount;
        if (terms.ref != bytes32(0)) {
            bytes32 refKey = keccak256(abi.encode(terms.ref, terms.buyer, terms.seller));
            uint256 existing = _dealOfRef[refKey];
            if (existing != 0) revert DuplicateDeal(existing);
            _dealOfRef[refKey] = dealId;
        }
        Deal storage d = _deals[dealId];
        d.buyer = terms.buyer;
        d.seller = terms.seller;
        d.paymentToken = terms.paymentToken;
        d.amount = terms.amount;
        d.assetKind = terms.assetKind;
        d.assetContract = terms.assetContract;
        d.tokenId = terms.tokenId;
        d.deadline = terms.deadline;
        d.feeBps = feeBps;
        d.feeRecipient = feeRecipient;
        emit DealCreated(
            dealId,
            terms.ref,
            terms.buyer,
            terms.seller,
            terms.paymentToken,
            terms.amount,
            terms.assetKind,
            terms.assetContract,
            terms.tokenId,
            terms.deadline,
            arbiter,
            d.feeBps,
            d.feeRecipient
        );
    }

    /// Takes the buyer's payment (the caller is the buyer; the deal is open, unpaid, due).
    function _deposit(uint256 dealId, Deal storage d) private {
        if (d.paymentToken == address(0)) {
            if (msg.value != d.amount) revert WrongPayment();
            _paymentHeld(dealId, d);
            return;
        }
        if (msg.value != 0) revert WrongPayment();
        // Effects first: a token re-entering here finds the payment already counted (and
        // the guard closed); the balance check below reverts all of it if the pull fell short.
        _paymentHeld(dealId, d);
        IERC20 token = IERC20(d.paymentToken);
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), d.amount);
        if (token.balanceOf(address(this)) - before != d.amount) revert WrongPayment();
    }

    function _existing(uint256 dealId) private view returns (Deal storage d) {
        d = _deals[dealId];
        if (d.buyer == address(0)) revert UnknownDeal(dealId);
    }

    /// A deal not yet released or refunded.
    function _open(uint256 dealId) private view returns (Deal storage d) {
        d = _existing(dealId);
        if (d.state == State.Released || d.state == State.Refunded) revert WrongState(d.state);
    }

    function _paymentHeld(uint256 dealId, Deal storage d) private {
        d.paymentHeld = true;
        emit PaymentDeposited(dealId, d.buyer, d.paymentToken, d.amount);
        if (d.assetHeld || d.assetKind == AssetKind.None) _fund(dealId, d);
    }

    function _fund(uint256 dealId, Deal storage d) private {
        d.state = State.Funded;
        emit Funded(dealId);
    }

    /// The deal holding or awaiting the asset: its reservation lapses with a deal that is
    /// over, or past its deadline without the asset (0: none).
    function _liveHolder(bytes32 key) private view returns (uint256 holder) {
        holder = assetDeal[key];
        if (holder == 0) return 0;
        Deal storage h = _deals[holder];
        bool open = h.state == State.Pending || h.state == State.Funded;
        if (!open || (!h.assetHeld && block.timestamp > h.deadline)) return 0;
    }

    /// Whether the escrow has the deal's asset to give back: deposited, or (Ownable) handed
    /// over after its reservation but never deposited.
    function _assetInEscrow(uint256 dealId, Deal storage d) private view returns (bool) {
        if (d.assetHeld) return true;
        if (d.assetKind != AssetKind.Ownable) return false;
        bytes32 key = assetKey(d.assetKind, d.assetContract, d.tokenId);
        return assetDeal[key] == dealId && Ownable(d.assetContract).owner() == address(this);
    }

    /// Frees the deal's reservation of its asset (it no longer holds or awaits it).
    function _releaseAsset(uint256 dealId, Deal storage d) private {
        if (d.assetKind == AssetKind.None) return;
        bytes32 key = assetKey(d.assetKind, d.assetContract, d.tokenId);
        if (assetDeal[key] == dealId) delete assetDeal[key];
    }

    function _returnAsset(Deal storage d) private {
        if (d.assetKind == AssetKind.ERC721) {
            IERC721(d.assetContract).transferFrom(address(this), d.seller, d.tokenId);
        } else {
            Ownable(d.assetContract).transferOwnership(d.seller); // Ownable2Step: the seller accepts
        }
    }

    function _currentOwner(Deal storage d) private view returns (address) {
        if (d.assetKind == AssetKind.ERC721) return IERC721(d.assetContract).ownerOf(d.tokenId);
        return Ownable(d.assetContract).owner();
    }

    function _pay(address token, address to, uint256 amount) private {
        if (token == address(0)) {
            (bool sent,) = to.call{value: amount}("");
            if (!sent) revert NativeTransferFailed();
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
    }
}
